"""How a column's values read: one format, and one precision, per column, for every medium.

A :class:`Format` says how the page shows a value (``ui/block_view.py`` turns it
into Streamlit's column settings), how a report cell writes it (:meth:`Format.text`)
and how a CSV file keeps it (:meth:`Format.csv`: still a number, rounded to what the
quantity means: a cost to 1e-6 USD, a ratio to 1e-4, seconds to the millisecond).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from telemetry import format as fmt

MISSING = fmt.MISSING
# Kinds whose values are numbers (a CSV keeps them numeric).
NUMERIC_KINDS = frozenset({"count", "number", "ratio", "usd", "seconds"})


def missing(value: Any) -> bool:
    """``None``, NaN and NaT: a cell with nothing to show."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and other containers are values
        return False


@dataclass(frozen=True)
class Format:
    """How one column reads.

    ``kind``: ``text``, ``count`` (whole numbers in full: never "101.7M" beside
    "7,529,843"), ``number``, ``ratio`` (shown as a percentage), ``usd``,
    ``seconds`` (a duration) or ``datetime`` (naive UTC).
    ``decimals``: the shown precision, the same for every cell of the column.
    ``csv_decimals``: the rounding of the CSV value (``None``: as it is).
    ``scale``: multiplies stored values first (milliseconds stored, seconds shown).
    ``clock``: the time of day of a ``datetime`` (``%H:%M`` or ``%H:%M:%S``).
    """

    kind: str
    decimals: int = 0
    csv_decimals: int | None = None
    scale: float = 1.0
    clock: str = "%H:%M"

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    def values(self, series: pd.Series) -> pd.Series:
        """The stored values in the unit shown (``scale`` applied to numbers)."""
        if not self.numeric:
            return series
        numbers = pd.to_numeric(series, errors="coerce")
        return numbers * self.scale if self.scale != 1.0 else numbers

    def text(self, value: Any) -> str:
        """One cell as a report writes it; a missing value is a dash."""
        if missing(value):
            return MISSING
        if self.kind == "datetime":
            moment = pd.Timestamp(value).to_pydatetime()
            return f"{moment.day} {moment:%b %Y}, {moment.strftime(self.clock)}"
        if not self.numeric:
            return str(value)
        number = float(value) * self.scale
        if self.kind == "count":
            return f"{round(number):,}"
        if self.kind == "ratio":
            return f"{number * 100:.{self.decimals}f}%"
        if self.kind == "usd":
            return f"${number:,.{self.decimals}f}"
        if self.kind == "seconds":
            return fmt.duration(number)  # "850 ms", "42.0 s", "35 min 05 s", "3 h 20 min"
        return f"{number:,.{self.decimals}f}"

    def csv(self, series: pd.Series) -> pd.Series:
        """The column for a CSV file: numbers stay numbers, rounded; whole numbers as integers."""
        if not self.numeric:
            return series
        values = self.values(series)
        if self.kind == "count":
            return values.round().astype("Int64")
        if self.csv_decimals is not None:
            # Sums of floats carry noise (50.99023477999997); the CSV writer prints the
            # shortest repr, which after round() is the rounded decimal (50.990235).
            return values.round(self.csv_decimals)
        return values

    def csv_unit(self) -> str:
        """The unit a CSV header names, for values whose unit the title does not say."""
        return "s" if self.kind == "seconds" else ""


TEXT = Format("text")
COUNT = Format("count")
RATIO = Format("ratio", decimals=1, csv_decimals=4)
USD = Format("usd", decimals=2, csv_decimals=6)
# Per-run and per-call costs are often fractions of a cent: four decimals for the column.
USD_FINE = replace(USD, decimals=4)
SECONDS = Format("seconds", decimals=0, csv_decimals=3)
# Latencies: stored in milliseconds, read as seconds with their milliseconds.
MILLISECONDS = Format("seconds", decimals=3, csv_decimals=3, scale=0.001)
DATETIME = Format("datetime")
DATETIME_SECONDS = Format("datetime", clock="%H:%M:%S")


def number(decimals: int) -> Format:
    """A plain number with ``decimals`` digits after the point (a CSV keeps the same)."""
    return Format("number", decimals=decimals, csv_decimals=decimals)
