"""The server: the dashboard (app.py) and the OTLP ingest endpoint on one port.

Start it with ``streamlit run serve.py`` (what scripts/run.sh does). On process
start it brings the store up to date, loads demo data into a brand-new store
and creates the first admin account, printing its password once.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from functools import cache

import streamlit as st
from sqlalchemy import Engine
from streamlit.runtime.pages_manager import PagesManager

from telemetry.db import make_engine
from telemetry.ingest.http import ingest_routes
from telemetry.startup import prepare_server

# app.py registers the pages with st.navigation, per role, after the login check.
# Because a folder named pages/ exists, Streamlit would otherwise start in its
# legacy multipage mode and serve every pages/*.py file at its own URL, without
# running app.py, until the process's first st.navigation call: a request for
# /overview arriving first after a restart would skip the login. Turn that mode
# off before any session starts.
PagesManager.uses_pages_directory = False


@cache
def get_engine() -> Engine:
    """The ingest endpoint's engine (the dashboard pages keep their own cached one)."""
    return make_engine()


@asynccontextmanager
async def first_start(_app):
    # Before the first request: schema, demo data on a new store, first admin.
    prepare_server(get_engine())
    yield


app = st.App("app.py", routes=ingest_routes(get_engine), lifespan=first_start)
