"""The downloads under a table: its rows as CSV (formula-like cells neutralised) and as JSON.

Every table of every page goes through :func:`csv_download` (directly, or through
the block views), so both formats are offered wherever a table is.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from telemetry.csvsafe import to_safe_csv
from telemetry.filters import Filters


def to_json(frame: pd.DataFrame) -> bytes:
    """``frame`` as a JSON array of row objects (ISO times, missing values as null)."""
    text = frame.to_json(orient="records", date_format="iso", force_ascii=False, indent=1)
    return text.encode("utf-8")


def csv_download(
    frame: pd.DataFrame,
    filters: Filters,
    name: str,
    *,
    key: str,
    label: str = "Download CSV",
    suffix: str = "",
) -> None:
    """Downloads of ``frame`` as ``<name>_<org>_<start>_<end><suffix>.csv`` and ``.json``.

    The JSON button's label is the CSV one's with CSV replaced by JSON.
    """
    stem = f"{name}_{filters.org}_{filters.start}_{filters.end}{suffix}"
    with st.container(horizontal=True, gap="small"):
        st.download_button(
            label,
            to_safe_csv(frame),
            file_name=f"{stem}.csv",
            mime="text/csv",
            icon=":material/download:",
            on_click="ignore",
            key=key,
        )
        st.download_button(
            label.replace("CSV", "JSON") if "CSV" in label else f"{label} (JSON)",
            to_json(frame),
            file_name=f"{stem}.json",
            mime="application/json",
            icon=":material/data_object:",
            on_click="ignore",
            key=f"{key}_json",
        )
