"""Aggregation windows of alert rules and durations as people type them ("15m", "1h", "7d").

A window ends at the evaluation time: ``15m``, ``1h``, ``24h`` and ``7d`` are that
long; ``mtd`` (month to date) starts at 00:00 UTC on the 1st of the evaluation
time's month. :func:`window_filters` is the one place turning (scope, window,
time) into the :class:`~telemetry.filters.Filters` the query layer reads.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from telemetry.filters import Filters
from telemetry.timeutil import (
    US_PER_DAY,
    US_PER_SECOND,
    day_number,
    day_of_number,
    day_of_us,
)

EVALUATION_INTERVAL_S = 60
MONTH_TO_DATE = "mtd"
WINDOW_SECONDS = {"15m": 15 * 60, "1h": 3600, "24h": 86_400, "7d": 7 * 86_400}
WINDOWS = (*WINDOW_SECONDS, MONTH_TO_DATE)
WINDOW_LABELS = {
    "15m": "15 minutes",
    "1h": "1 hour",
    "24h": "24 hours",
    "7d": "7 days",
    MONTH_TO_DATE: "month to date",
}
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")


def parse_duration(text: str, *, field: str = "duration") -> int:
    """Seconds of ``"90s"``, ``"15m"``, ``"2h"``, ``"1d"`` (``"0"`` is 0); ``ValueError`` if not."""
    text = str(text).strip().lower()
    if text in ("0", ""):
        return 0
    found = _DURATION.match(text)
    if not found:
        raise ValueError(
            f"{field} {text!r} is not a duration: write a number and a unit, "
            "e.g. 90s, 15m, 2h or 1d"
        )
    return round(float(found.group(1)) * _UNITS[found.group(2)])


def check_window(text: str) -> str:
    """The window named ``text``, or a ``ValueError`` saying which windows exist."""
    window = str(text).strip().lower()
    if window in WINDOWS:
        return window
    choices = ", ".join(WINDOWS)
    try:
        seconds = parse_duration(window, field="window")
    except ValueError:
        raise ValueError(f"window {text!r} is not one of {choices}") from None
    if seconds < EVALUATION_INTERVAL_S:
        raise ValueError(
            f"window {text!r} is shorter than the evaluation interval "
            f"({EVALUATION_INTERVAL_S} s): rules are evaluated once a minute; use one of {choices}"
        )
    raise ValueError(f"window {text!r} is not one of {choices}")


def window_start_us(window: str, at_us: int) -> int:
    """The first microsecond of the ``window`` ending (exclusively) at ``at_us``."""
    if window == MONTH_TO_DATE:
        day = day_of_number(day_of_us(at_us - 1))
        return day_number(day.replace(day=1)) * US_PER_DAY
    return at_us - WINDOW_SECONDS[window] * US_PER_SECOND


def window_filters(
    org: str,
    teams: Sequence[str] | None,
    environments: Sequence[str] | None,
    window: str,
    at_us: int,
) -> Filters:
    """The Filters of ``window`` ending at ``at_us`` for that organization, teams, environments."""
    return period_filters(
        window_start_us(window, at_us),
        at_us,
        org=org,
        teams=None if teams is None else tuple(teams),
        environments=None if environments is None else tuple(environments),
    )


def period_filters(start_us: int, end_us: int, **rest) -> Filters:
    """Filters of exactly ``[start_us, end_us)`` (rollups for its whole days, base rows for
    its edges: :mod:`telemetry.queries.rollup_scope`)."""
    return Filters.window(start_us, end_us, **rest)
