"""KPI cards: a value, its change against the previous period ("new" when that held no data),
and help with the formula and the numbers behind it (:mod:`telemetry.kpi_text`)."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from telemetry import format as fmt
from telemetry import kpi_text
from telemetry.filters import Filters
from telemetry.queries import Kpi

# Where "up" is bad or neither good nor bad, the delta is coloured accordingly.
DELTA_COLORS = {"error_rate": "inverse", "cost_usd": "off", "tokens": "off"}
# Short labels that fit a card; the full meaning is in each card's help.
SHORT_LABELS = {"tokens": "Tokens"}
ROWS = (
    ("users_total", "users_active", "users_new", "activation_rate"),
    ("traces", "sessions", "error_rate", "cost_usd", "tokens"),
)


def kpi_cards(kpis: Sequence[Kpi], filters: Filters) -> None:
    """The Overview's KPI grid; the cost card names its priced share, with a warning below 100%."""
    by_key = {kpi.key: kpi for kpi in kpis}
    priced = by_key.get("priced_share")
    previous = filters.previous()
    for row in ROWS:
        columns = st.columns(len(ROWS[-1]))
        for column, key in zip(columns, row, strict=False):
            if key in by_key:
                with column:
                    _card(by_key[key], previous, priced)
    if priced is not None and priced.value is not None and priced.value < 1:
        st.warning(
            f"Cost covers {fmt.percent(priced.value)} of LLM calls: the others have no known "
            "price, so the total is understated. An admin can add prices for those models.",
            icon=":material/warning:",
        )


def _card(kpi: Kpi, previous: Filters, priced: Kpi | None) -> None:
    label = SHORT_LABELS.get(kpi.key, kpi.label)
    if kpi.key == "cost_usd" and priced is not None and priced.value is not None:
        label = f"{kpi.label} · {_priced_share(priced.value)} priced"
    change = kpi_text.change_text(kpi)
    new = change == kpi_text.NEW
    st.metric(
        label,
        fmt.value_text(kpi.value, kpi.unit),
        # A change that rounds to nothing is shown as a grey zero, not a coloured arrow;
        # "new" (nothing to compare with) is grey and has no arrow.
        delta=0 if change in fmt.NO_CHANGE else change,
        delta_color="off" if new else DELTA_COLORS.get(kpi.key, "normal"),
        delta_arrow="off" if new else "auto",
        help=kpi_text.help_text(kpi, fmt.day_span(previous)),
        border=True,
    )


def _priced_share(value: float) -> str:
    # Never round 99.6% up to "100%": a cost with unpriced calls must not look complete.
    if 0.99 < value < 1:
        return fmt.percent(value, 1)
    return fmt.percent(value, 0)
