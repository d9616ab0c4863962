#!/usr/bin/env bash
# Run every check CI runs: lint, format, then the test suite on SQLite and on a
# real PostgreSQL server (started by the tests), browser tests in headless
# Chromium. Extra arguments go to pytest (e.g. -k overview, -x).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev

echo "==> ruff check"
.venv/bin/ruff check .
echo "==> ruff format --check"
.venv/bin/ruff format --check .
echo "==> pytest"
.venv/bin/python -m pytest "$@"
