"""A hand-built report for the renderer tests: KPIs, two charts, a hostile users table, a failure.

No database and no builder: every block is written here, so the tests know each string.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import altair as alt
import pandas as pd

from telemetry.filters import Filters
from telemetry.reports.model import (
    ChartBlock,
    Fidelity,
    ItemResult,
    ItemStatus,
    KpiBlock,
    KpiLine,
    Report,
    ReportFormat,
    ReportRequest,
    Snapshot,
    TableBlock,
)

SCRIPT_NAME = "<script>alert(1)</script>"
ATTRIBUTE_NAME = '"><img src=x onerror=alert(1)>'
COMMENT_NAME = "</script><!-- x"
HOSTILE_NAMES = (SCRIPT_NAME, ATTRIBUTE_NAME, COMMENT_NAME)
# 2026-03-09 07:30 UTC, in epoch microseconds, counted by hand: 20521 days since 1970-01-01.
GENERATED_AT_US = (20_521 * 86_400 + 7 * 3_600 + 30 * 60) * 1_000_000
BILLING_MONTH = 2026 * 12 + 2  # March 2026 as a timeutil month number
FAILURE = "database is locked <retry>"
APPROXIMATION = "cost of users with no team is left out"
KPI_LINES = (
    KpiLine("Runs", "1,234", "+56"),
    KpiLine("Error rate", "4.2%", "-0.3 pp"),
    KpiLine("Cost", "$12.35"),
)


def _runs_chart() -> dict:
    frame = pd.DataFrame({"day": ["Mon", "Tue", "Wed"], "runs": [3, 5, 2], "who": HOSTILE_NAMES})
    chart = alt.Chart(frame).mark_bar().encode(x="day:N", y="runs:Q", tooltip=["who", "runs"])
    return chart.to_dict()


def _cost_chart() -> dict:
    frame = pd.DataFrame({"model": ["gpt-4o", SCRIPT_NAME], "cost": [1.5, 0.25]})
    return alt.Chart(frame).mark_bar().encode(y="model:N", x="cost:Q", tooltip=["model"]).to_dict()


def _users_table(shown: int, total: int) -> TableBlock:
    frame = pd.DataFrame(
        {
            "name": [SCRIPT_NAME, ATTRIBUTE_NAME, COMMENT_NAME][:shown],
            "runs": ["7", "3", "1"][:shown],
            "internal": ["x", "y", "z"][:shown],  # not in columns: never shown
        }
    )
    return TableBlock(
        frame=frame,
        columns={"name": "User", "runs": "Runs"},
        caption="Users by runs.",
        snapshot=Snapshot(shown=shown, total=total),
    )


def sample_request(items: tuple[str, ...], fmt: ReportFormat = ReportFormat.HTML) -> ReportRequest:
    return ReportRequest(
        filters=Filters(start=date(2026, 3, 2), end=date(2026, 3, 8), teams=("alpha", "beta")),
        format=fmt,
        items=items,
        generated_by="ana",
        generated_at_us=GENERATED_AT_US,
        billing_month=BILLING_MONTH,
        organization_name="Acme Corp",
    )


def sample_report(fmt: ReportFormat = ReportFormat.HTML, *, users_total: int = 5) -> Report:
    """Overview KPIs + chart, a users table (3 of ``users_total``), a billing chart, a failure."""
    results = (
        ItemResult("overview.kpis", "overview", "Headline figures", ItemStatus.OK,
                   KpiBlock(KPI_LINES)),
        ItemResult("overview.activity", "overview", "Activity", ItemStatus.OK,
                   ChartBlock(_runs_chart(), "Runs per day.")),
        ItemResult("users.table", "users", "Users", ItemStatus.OK,
                   _users_table(3, users_total), fidelity=Fidelity(APPROXIMATION),
                   snapshot=Snapshot(shown=3, total=users_total)),
        ItemResult("billing.by_model", "billing", "Cost by model", ItemStatus.OK,
                   ChartBlock(_cost_chart())),
        ItemResult("billing.forecast", "billing", "Forecast", ItemStatus.FAILED, error=FAILURE),
        ItemResult("users.top", "users", "Top users", ItemStatus.FAILED, error="timeout",
                   snapshot=Snapshot(shown=0, total=0, available=False)),
    )  # fmt: skip
    return Report(sample_request(tuple(r.key for r in results), fmt), results)


CHART_COUNT = 2
GENERATED_AT = datetime(2026, 3, 9, 7, 30, tzinfo=UTC)


# Words a report must never break: a model name, an e-mail address, a team, a user id.
LONG_TOKENS = (
    "anthropic/claude-sonnet-4-5-20250929",
    "maximilian.oberhausen-schmidt@customer-success.example.com",
    "usr_9afb083724c1d2e3",
)
LONG_TEAM = "Customer Support"


def long_names_report(fmt: ReportFormat) -> Report:
    """One users table as wide as the Users page's (16 columns) holding :data:`LONG_TOKENS`."""
    headings = ["User", "Team", "Model", "Email", "User id", "Traces", "Cost (USD)"]
    headings += ["Errored sessions", "Sessions", "Errored session rate", "Tokens"]
    headings += ["Active days", "Priced share", "Status", "First seen", "Last seen"]
    model, email, user_id = LONG_TOKENS
    row = ["Maximilian Oberhausen-Schmidt", LONG_TEAM, model, email, user_id, "1,234"]
    row += ["$50.99", "3", "41", "7.3%", "7,529,843", "27", "96.0%", "active"]
    row += ["6 Nov 2026, 09:14", "5 Dec 2026, 17:02"]
    frame = pd.DataFrame([row, row], columns=[f"c{index}" for index in range(len(row))])
    table = TableBlock(frame, dict(zip(frame.columns, headings, strict=True)), "Users.")
    result = ItemResult("users.table", "users", "Users", ItemStatus.OK, table)
    return Report(sample_request(("users.table",), fmt), (result,))
