"""The Reports page's choices: period (dates, or the last hour / 24 hours), billing month,
format, and the items of each module.

Plain widgets, not an ``st.form``: the Generate button must know at once
whether the choices are complete, to disable itself and say why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import streamlit as st

from telemetry.filters import Filters
from telemetry.reports.catalog import MODULES, items_of
from telemetry.reports.model import ReportFormat
from telemetry.timeutil import month_number
from ui.billing_view import month_selector
from ui.periods import LAST_24_HOURS, LAST_HOUR

BILLING = "billing"
FORMATS = {"PDF": ReportFormat.PDF, "HTML": ReportFormat.HTML}
ITEMS_KEY = "report_items_{module}"
DATES = "Dates"
SPANS = (DATES, LAST_HOUR, LAST_24_HOURS)


@dataclass(frozen=True)
class ReportChoice:
    """What the form holds; ``problem`` says why a report cannot be generated yet ("" = ready).

    ``last`` is a sub-day preset ("Last hour", "Last 24 hours") ending when the report
    is generated, or ``None`` for the days ``start``..``end``.
    """

    start: date | None
    end: date | None
    format: ReportFormat
    items: tuple[str, ...]
    billing_month: int | None
    problem: str
    last: str | None = None


def items_key(module: str) -> str:
    return ITEMS_KEY.format(module=module)


def span_input(filters: Filters) -> str | None:
    """Dates, or the last hour / 24 hours up to the report's generation (the sidebar's own
    choice when it is one of those); ``None`` for dates."""
    sidebar = st.session_state.get("period")
    default = SPANS.index(sidebar) if sidebar in SPANS and filters.is_window else 0
    chosen = st.radio(
        "Period",
        SPANS,
        index=default,
        horizontal=True,
        key=f"report_span_{sidebar}",  # follows the sidebar when it moves
        label_visibility="collapsed",
        help="Whole UTC days, or a window ending when the report is generated.",
    )
    return None if chosen == DATES else chosen


def period_inputs(filters: Filters) -> tuple[date | None, date | None]:
    """Start and end dates, defaulting to the sidebar's period (and following it when it moves)."""
    # Keyed on the sidebar's period: choosing another period there resets these defaults.
    suffix = f"{filters.start}_{filters.end}"
    left, right = st.columns(2)
    start = left.date_input(
        "Start date", value=filters.start, key=f"report_start_{suffix}", format="YYYY-MM-DD"
    )
    end = right.date_input(
        "End date", value=filters.end, key=f"report_end_{suffix}", format="YYYY-MM-DD"
    )
    return start, end


def format_input() -> ReportFormat:
    chosen = st.radio(
        "Format",
        list(FORMATS),
        horizontal=True,
        key="report_format",
        label_visibility="collapsed",
        help="PDF for printing and mail; HTML is one file that works offline, with live charts.",
    )
    return FORMATS[chosen]


def _select(module: str, keys: list[str]) -> None:
    st.session_state[items_key(module)] = keys


def module_items(module: str, title: str) -> list[str]:
    """One module's items as a multiselect, with Select all / None buttons."""
    specs = items_of(module)
    keys = [spec.key for spec in specs]
    titles = {spec.key: spec.title for spec in specs}
    key = items_key(module)
    st.session_state.setdefault(key, keys)
    with st.container(border=True):
        head, every, none = st.columns([5, 1.4, 1], vertical_alignment="center")
        head.markdown(f"**{title}**")
        every.button(
            "Select all",
            key=f"{key}_all",
            on_click=_select,
            args=(module, keys),
            width="stretch",
            help=f"Select every {title} item.",
        )
        none.button(
            "None",
            key=f"{key}_none",
            on_click=_select,
            args=(module, []),
            width="stretch",
            help=f"Leave the {title} module out.",
        )
        chosen = st.multiselect(
            f"{title} items",
            keys,
            format_func=titles.get,
            key=key,
            label_visibility="collapsed",
            placeholder=f"No {title} item: the module is left out",
        )
    return [item for item in keys if item in chosen]


def billing_month_input(months: list[int], today: date, end: date | None) -> int:
    """The Billing module's month: the month the period ends in, as the CLI defaults to."""
    return month_selector(
        months,
        today,
        key="report_billing_month",
        help="The calendar month (UTC) of the Billing module's month figures and forecast.",
        default=month_number(end) if end else None,
    )


def problem_of(
    start: date | None, end: date | None, items: list[str], filters: Filters, last: str | None
) -> str:
    """Why Generate is disabled, for people; "" when the choices are complete.

    A window ending now (``last``) has no dates to check.
    """
    if last is None and (start is None or end is None):
        return "Choose a start and an end date."
    if last is None and end < start:
        return f"The period ends ({end}) before it starts ({start}): choose a later end date."
    if filters.teams == ():
        return "No team is selected for your account, so there is nothing to report."
    if not items:
        return "Choose at least one item in one module."
    return ""


def report_choice(
    filters: Filters, billing_months: Callable[[], list[int]], today: date
) -> ReportChoice:
    """Draw steps 1 to 3 and return what they hold.

    ``billing_months`` lists the months to offer (called only when Billing is included).
    """
    st.markdown("**1. Period**")
    last = span_input(filters)
    if last is None:
        start, end = period_inputs(filters)
    else:
        start = end = today
        st.caption(f"{last} up to the moment the report is generated (UTC).")
    month_slot = st.container()  # the billing month, once we know Billing is included
    st.markdown("**2. Format**")
    chosen_format = format_input()
    st.markdown("**3. Modules and items**")
    st.caption("Leave a module empty (None) to leave it out of the report.")
    items: list[str] = []
    for module, title in MODULES.items():
        items += module_items(module, title)
    month = None
    if any(item.startswith(f"{BILLING}.") for item in items):
        with month_slot:
            month = billing_month_input(billing_months(), today, end)
    problem = problem_of(start, end, items, filters, last)
    return ReportChoice(start, end, chosen_format, tuple(items), month, problem, last)
