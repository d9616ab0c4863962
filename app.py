"""The product: ``streamlit run app.py`` serves everything on one port.

- the dashboard (ui/dashboard.py: login, navigation, sidebar filters, pages/);
- ``POST /v1/traces``, the OTLP/HTTP ingest endpoint;
- ``/session/begin`` and ``/session/end``, which set and clear the HttpOnly
  login cookie (telemetry.session_http); ``/_stcore/metrics`` answers 404;
- on start, the store's schema is brought up to date, a brand-new store gets
  demo data and the first admin account (its password printed once);
- background jobs, run by one replica at a time.

Options after ``app.py`` go to Streamlit (``--server.port 9000``); settings are in
.streamlit/config.toml and the TELEMETRY_* environment variables (README).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from telemetry.server import server_lifespan, server_middleware, server_routes

DASHBOARD = Path(__file__).resolve().parent / "ui" / "dashboard.py"

app = st.App(
    DASHBOARD,
    routes=server_routes(),
    middleware=server_middleware(),
    lifespan=server_lifespan(),
)
