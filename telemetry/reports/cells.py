"""How report figures and table cells read: the pages' number formats, applied to text blocks.

Counts, percentages, dollars and durations come from :mod:`telemetry.format`,
as on the pages. Seconds columns and timestamps, which the pages leave to
Streamlit's column formats, are written here for reports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from telemetry import format as fmt
from telemetry.filters import Filters
from telemetry.reports.model import EXACT, Fidelity, KpiLine, Snapshot, TableBlock

Cell = Callable[[Any], str]
# (heading, how a cell reads) per frame column, in display order.
Columns = dict[str, tuple[str, Cell]]


def missing(value: Any) -> bool:
    """``None``, NaN and NaT: a cell with nothing to show."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and other containers are values
        return False


def text(value: Any) -> str:
    return "" if missing(value) else str(value)


def count(value: Any) -> str:
    return fmt.MISSING if missing(value) else fmt.count(value)


def percent(value: Any) -> str:
    return fmt.MISSING if missing(value) else fmt.percent(float(value))


def dollars(value: Any) -> str:
    return fmt.MISSING if missing(value) else fmt.dollars(float(value))


def seconds_from_ms(value: Any) -> str:
    """A millisecond figure as the pages' seconds columns show it (``1.25 s``)."""
    return fmt.MISSING if missing(value) else f"{float(value) / 1000:.2f} s"


def decimal(value: Any, decimals: int = 1) -> str:
    return fmt.MISSING if missing(value) else f"{float(value):,.{decimals}f}"


def timestamp(value: Any) -> str:
    """A naive UTC timestamp as the Users table shows it: ``3 Mar 2026, 14:05``."""
    if missing(value):
        return ""
    moment = pd.Timestamp(value).to_pydatetime()
    return f"{moment.day} {moment:%b %Y, %H:%M}"


def line(label: str, value: str, help: str = "", change: str | None = None) -> KpiLine:
    return KpiLine(label=label, value=value, change=change, help=help)


def table(
    frame: pd.DataFrame,
    columns: Columns,
    caption: str = "",
    snapshot: Snapshot | None = None,
) -> TableBlock:
    """A :class:`TableBlock` of ``frame``'s ``columns``, every cell already text."""
    cells = pd.DataFrame(
        {name: [cell(value) for value in frame[name]] for name, (_, cell) in columns.items()},
        columns=list(columns),
    )
    headings = {name: heading for name, (heading, _) in columns.items()}
    return TableBlock(frame=cells, columns=headings, caption=caption, snapshot=snapshot)


def environment_fidelity(filters: Filters, what: str) -> Fidelity:
    """Approximate under an environment filter for figures of the user directory.

    The directory (``end_user``) has no environment: its users are counted
    whatever environment is selected (docs/metrics.md, "Filter fidelity").
    """
    if filters.environments is None:
        return EXACT
    return Fidelity(
        f"{what} come from the user directory, which has no environment, so the "
        "environment filter does not apply to them"
    )
