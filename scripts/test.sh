#!/usr/bin/env bash
# Run every check CI runs: lint, format, then the test suite on SQLite and on a
# real PostgreSQL server (started by the tests), browser tests in headless
# Chromium. Extra arguments go to pytest (e.g. -k overview, -x). Test files run in
# TEST_WORKERS parallel processes (default 2; 0 = one process).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev

echo "==> ruff check"
.venv/bin/ruff check .
echo "==> ruff format --check"
.venv/bin/ruff format --check .
echo "==> pytest"
# Test files run in parallel worker processes (pytest-xdist), one file per worker at a
# time so module-scoped servers and browsers are shared; TEST_WORKERS=0 runs serially.
workers="${TEST_WORKERS:-2}"
if [ "$workers" = "0" ]; then
    .venv/bin/python -m pytest "$@"
else
    .venv/bin/python -m pytest -n "$workers" --dist loadfile "$@"
fi
