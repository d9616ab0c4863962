#!/usr/bin/env bash
# Run the dashboard (and its OTLP ingest endpoint) on http://localhost:8501.
# First start: creates data/telemetry.db, fills it with demo data and prints
# the first admin's password. Extra arguments go to `streamlit run`
# (e.g. --server.port 9000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh runtime
exec .venv/bin/streamlit run app.py "$@"
