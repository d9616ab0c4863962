"""CSV downloads open safely in a spreadsheet: formula-like text cells are neutralised."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from telemetry.csvsafe import to_safe_csv


def read_back(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark, for spreadsheets
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize(
    "cell",
    [
        "=1+1",
        '=HYPERLINK("http://evil.example","click")',
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_formula_like_text_gets_a_leading_apostrophe(cell):
    rows = read_back(to_safe_csv(pd.DataFrame({"name": [cell]})))
    assert rows == [["name"], ["'" + cell]]


def test_plain_text_numbers_dates_and_missing_values_are_left_alone():
    frame = pd.DataFrame(
        {
            "name": ["Zoë Müller", "a=b", ""],
            "cost_usd": [-1.5, 0.0, 2.25],
            "calls": [3, -4, 0],
            "seen": pd.to_datetime(["2026-03-01 10:00", None, "2026-03-02 00:00"]),
            "rate": [0.5, None, 1.0],
        }
    )
    rows = read_back(to_safe_csv(frame))
    assert rows == [
        ["name", "cost_usd", "calls", "seen", "rate"],
        ["Zoë Müller", "-1.5", "3", "2026-03-01 10:00:00", "0.5"],
        ["a=b", "0.0", "-4", "", ""],
        ["", "2.25", "0", "2026-03-02 00:00:00", "1.0"],
    ]


def test_a_formula_like_header_is_neutralised_too():
    rows = read_back(to_safe_csv(pd.DataFrame({"=evil": ["x"]})))
    assert rows[0] == ["'=evil"]


def test_cells_with_line_breaks_stay_in_their_row():
    frame = pd.DataFrame({"note": ["line one\nline two", "carriage\rreturn"], "n": [1, 2]})
    assert read_back(to_safe_csv(frame)) == [
        ["note", "n"],
        ["line one\nline two", "1"],
        ["carriage\rreturn", "2"],
    ]
