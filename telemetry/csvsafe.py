"""CSV downloads that open safely in a spreadsheet: formula injection neutralised, UTF-8 BOM."""

from __future__ import annotations

import pandas as pd

# A cell starting with one of these is read as a formula by Excel, LibreOffice and
# Google Sheets (tab and carriage return too, once the spreadsheet trims them).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_safe_csv(frame: pd.DataFrame) -> bytes:
    """``frame`` as CSV bytes with every formula-like text cell (and header) neutralised.

    Only text is touched: a negative number in a numeric column stays a number.
    Encoded UTF-8 with a byte-order mark, so spreadsheets read accents correctly.
    """
    safe = frame.copy()
    safe.columns = [neutralise(str(column)) for column in safe.columns]
    for column in safe.columns:
        if not (pd.api.types.is_numeric_dtype(safe[column]) or _is_datetime(safe[column])):
            safe[column] = safe[column].map(neutralise)
    # CRLF rows (RFC 4180): a cell holding a bare CR is then quoted instead of breaking its row.
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def _is_datetime(series: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(series)
