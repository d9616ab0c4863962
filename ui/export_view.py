"""The Export page's form: kinds, format, agent, model, content; a progress bar; the zip."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from telemetry.accounts import Account
from telemetry.export import (
    FORMATS,
    ExportRequest,
    export_choices,
    export_records,
    record_export,
    scoped_for,
    zip_export,
)
from telemetry.export_kinds import KINDS
from telemetry.store import UnknownOrganization
from ui import plain
from ui.cache import cached_query, get_engine
from ui.filters import View

READY_KEY = "_export_ready"
ALL = "(all)"
FORMAT_LABELS = {"csv": "CSV", "json": "JSON array", "jsonl": "JSON Lines"}
HELP = (
    "Exports the records of the period and teams chosen in the sidebar, narrowed to one "
    "agent or model if you like: one file per kind and a `manifest.json` (rows and SHA-256 "
    "per file, the filters, the schema version), in one zip. A record belongs to the "
    "period its own start falls in. CSV cells a spreadsheet would run as formulas start "
    "with an apostrophe. Prompts and responses are included only when an admin asks. "
    "For very large periods use the command line, which streams straight to disk: "
    "`python -m telemetry export --help`."
)


def draw(view: View, account: Account) -> None:
    st.caption(HELP)
    agents, models = cached_query(export_choices, view.filters, view.data_version)
    with st.form("export_form"):
        kinds = st.multiselect(
            "Record kinds",
            list(KINDS),
            default=["traces", "generations"],
            format_func=lambda kind: KINDS[kind].title,
        )
        fmt = st.radio("Format", FORMATS, format_func=FORMAT_LABELS.get, horizontal=True, index=2)
        left, right = st.columns(2)
        agent = left.selectbox("Agent", [ALL, *agents])
        model = right.selectbox(
            "Model", [ALL, *models], help="Only LLM calls of this model, and traces that made one."
        )
        content = st.checkbox(
            "Include prompts, responses and tool arguments",
            disabled=not account.is_admin,
            help="Admins only." if account.is_admin else "Only admins may export content.",
        )
        asked = st.form_submit_button("Prepare export", type="primary")
    if asked:
        request = ExportRequest(
            view.filters,
            tuple(kinds),
            fmt,
            content=content,
            agent=None if agent == ALL else agent,
            model=None if model == ALL else model,
        )
        _prepare(request, account)
    _offer()


def _prepare(request: ExportRequest, account: Account) -> None:
    try:
        request = scoped_for(account, request)  # the server's check, whatever the form sent
        request.check()
    except (PermissionError, ValueError) as error:
        st.error(plain.text(error), icon=":material/error:")
        return
    _forget_previous()
    folder = Path(tempfile.mkdtemp(prefix="telemetry-export-"))
    bar = st.progress(0.0, text="Exporting...")

    def progress(kind: str, done: int, total: int) -> None:
        bar.progress(min(done / total, 1.0) if total else 1.0, text=f"{kind}: {done:,} rows")

    engine = get_engine()
    try:
        manifest = export_records(engine, request, folder / "files", progress=progress)
    except UnknownOrganization as error:
        st.error(plain.text(error), icon=":material/error:")
        shutil.rmtree(folder, ignore_errors=True)
        return
    bar.empty()
    archive = zip_export(folder / "files", folder / "export.zip")
    record_export(engine, manifest, actor=account.username, via="page")
    st.session_state[READY_KEY] = (str(archive), manifest)


def _forget_previous() -> None:
    ready = st.session_state.pop(READY_KEY, None)
    if ready:
        shutil.rmtree(Path(ready[0]).parent, ignore_errors=True)


def _offer() -> None:
    ready = st.session_state.get(READY_KEY)
    if not ready or not Path(ready[0]).is_file():
        return
    path, manifest = ready
    rows = pd.DataFrame(
        [
            {"kind": kind, "file": entry["file"], "rows": entry["rows"], "sha256": entry["sha256"]}
            for kind, entry in manifest["kinds"].items()
        ]
    )
    st.dataframe(rows, hide_index=True)
    filters = manifest["filters"]
    st.download_button(
        "Download export (zip)",
        data=lambda: Path(path).read_bytes(),
        file_name=f"export_{filters['org']}_{filters['from']}_{filters['to']}.zip",
        mime="application/zip",
        icon=":material/download:",
        on_click="ignore",
        type="primary",
    )
