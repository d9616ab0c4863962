"""The CSV download button under a table: its rows, formula-like cells neutralised."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from telemetry.csvsafe import to_safe_csv
from telemetry.filters import Filters


def csv_download(
    frame: pd.DataFrame,
    filters: Filters,
    name: str,
    *,
    key: str,
    label: str = "Download CSV",
    suffix: str = "",
) -> None:
    """A download of ``frame`` as ``<name>_<org>_<start>_<end><suffix>.csv``."""
    st.download_button(
        label,
        to_safe_csv(frame),
        file_name=f"{name}_{filters.org}_{filters.start}_{filters.end}{suffix}.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key=key,
    )
