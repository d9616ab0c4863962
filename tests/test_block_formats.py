"""Column formats of the blocks: one precision per column, dashes for nothing, CSV numbers."""

from __future__ import annotations

import csv
import io
import math

import pandas as pd

from telemetry.blocks.formats import COUNT, DATETIME, MILLISECONDS, RATIO, SECONDS, USD, USD_FINE
from telemetry.blocks.model import Column, Table
from telemetry.csvsafe import to_safe_csv

TABLE = Table(
    rows=pd.DataFrame(
        {
            "name": ["ana", None, "=1+1"],
            "cost_usd": [50.99023477999997, 0.1819, None],
            "tokens": [101_700_000, 7_529_843, None],
            "error_rate": [0.027349, 0.5, None],
            "duration_s": [2105.4, 1.25, None],
            "latency_ms": [1234.5678, None, 5.0],
            "seen": pd.to_datetime(["2026-03-03 14:05:09", None, "2026-11-30 00:00:00"]),
        }
    ),
    columns=(
        Column("name", "Name", key=True),
        Column("cost_usd", "Cost (USD)", USD, key=True),
        Column("tokens", "Tokens", COUNT),
        Column("error_rate", "Error rate", RATIO),
        Column("duration_s", "Duration", SECONDS),
        Column("latency_ms", "Latency", MILLISECONDS),
        Column("seen", "Last seen", DATETIME),
    ),
)


def test_report_cells_have_one_precision_per_column_and_a_dash_for_nothing():
    cells = TABLE.cells()
    assert cells["name"].tolist() == ["ana", "–", "=1+1"]
    assert cells["cost_usd"].tolist() == ["$50.99", "$0.18", "–"]
    # Counts in full, never "101.7M" beside "7,529,843".
    assert cells["tokens"].tolist() == ["101,700,000", "7,529,843", "–"]
    assert cells["error_rate"].tolist() == ["2.7%", "50.0%", "–"]
    assert cells["duration_s"].tolist() == ["35 min 05 s", "1.2 s", "–"]
    assert cells["latency_ms"].tolist() == ["1.2 s", "–", "5 ms"]
    assert cells["seen"].tolist() == ["3 Mar 2026, 14:05", "–", "30 Nov 2026, 00:00"]


def test_fine_costs_keep_four_decimals_for_the_whole_column():
    fine = Table(pd.DataFrame({"c": [0.0012, 1.5]}), (Column("c", "Cost", USD_FINE),))
    assert fine.cells()["c"].tolist() == ["$0.0012", "$1.5000"]


def test_csv_headers_are_titles_and_numbers_are_rounded_numbers():
    rows = list(csv.reader(io.StringIO(to_safe_csv(TABLE.csv_frame()).decode("utf-8-sig"))))
    assert rows[0] == [
        "Name",
        "Cost (USD)",
        "Tokens",
        "Error rate",
        "Duration (s)",
        "Latency (s)",
        "Last seen",
    ]
    # Cost to 1e-6 USD (no float noise), ratios to 1e-4, seconds to the millisecond,
    # counts as integers; formula-like text still neutralised, missing values empty.
    assert rows[1] == [
        "ana",
        "50.990235",
        "101700000",
        "0.0273",
        "2105.4",
        "1.235",
        "2026-03-03 14:05:09",
    ]
    assert rows[2] == ["", "0.1819", "7529843", "0.5", "1.25", "", ""]
    assert rows[3] == ["'=1+1", "", "", "", "", "0.005", "2026-11-30 00:00:00"]


def test_csv_values_stay_numbers():
    frame = TABLE.csv_frame()
    assert str(frame["Tokens"].dtype) == "Int64"
    assert math.isclose(frame["Cost (USD)"].iloc[0], 50.990235)
    assert frame["Latency (s)"].iloc[2] == 0.005
