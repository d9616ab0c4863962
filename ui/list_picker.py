"""Opening one listed row: by selecting it in the table, or with a select box and an Open button.

A table opens a row through :func:`open_selected` (its ``on_select`` callback);
the table's key carries a nonce that the callback bumps, so the next run draws
a fresh, unselected table and selecting the same row again opens it again.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

import streamlit as st


def open_selected(key: str, values: Sequence[Any], open_key: str, nonce_key: str) -> None:
    """The table ``key``'s selected row: its value becomes ``open_key``; a fresh table next run."""
    state = st.session_state.get(key) or {}
    rows = (state.get("selection") or {}).get("rows") or []
    if rows and rows[0] < len(values):
        st.session_state[open_key] = values[rows[0]]
        st.session_state[nonce_key] = st.session_state.get(nonce_key, 0) + 1


def open_picker(
    label: str,
    keys: list[Hashable],
    labels: dict[Any, str],
    *,
    key: str,
    button: str,
    button_key: str,
    icon: str,
    on_open: Callable[[Any], None],
    help: str | None = None,
) -> None:
    """Pick one of ``keys`` (shown as ``labels``) and press ``button`` to call ``on_open(key)``."""
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    chosen = left.selectbox(label, keys, format_func=labels.get, key=key, help=help)
    right.button(
        button, key=button_key, icon=icon, on_click=on_open, args=(chosen,), width="stretch"
    )
