"""Report builder: items built one by one from the query layer, failures kept apart and retried.

Expected figures are counted by hand from ``build_two_teams`` (tests/app_support.py)
or from the small datasets written here.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from telemetry import queries
from telemetry.blocks import users as users_blocks
from telemetry.filters import Filters
from telemetry.queries import headline_metrics
from telemetry.reports import builder
from telemetry.reports.builder import build_report, estimate_size, retry_failed
from telemetry.reports.catalog import CATALOG, DEFAULT_ITEMS, MODULES, item, items_of
from telemetry.reports.model import (
    EXACT,
    ChartBlock,
    ItemSpec,
    ItemStatus,
    KpiBlock,
    ReportFormat,
    ReportRequest,
    TableBlock,
)
from telemetry.timeutil import month_number, to_us
from tests.app_support import TEAM_A, TEAM_B, TEAM_B_NAMES, build_two_teams
from tests.factories import Dataset, generation, root

TODAY = date(2026, 3, 20)
LAST_30_DAYS = Filters(start=TODAY - timedelta(days=29), end=TODAY)
HOSTILE = "<script>alert(1)</script>"


def request_for(filters: Filters, items=DEFAULT_ITEMS, **fields) -> ReportRequest:
    return ReportRequest(
        filters=filters,
        format=ReportFormat.HTML,
        items=tuple(items),
        generated_by="root",
        generated_at_us=to_us(datetime(2026, 3, 20, 15, 0)),
        **fields,
    )


def block_text(block) -> str:
    """Every string a block holds: labels, values, captions, cells, chart data."""
    if isinstance(block, KpiBlock):
        return "\n".join(f"{x.label} {x.value} {x.change} {x.help}" for x in block.lines)
    if isinstance(block, TableBlock):
        cells = block.frame.to_csv(index=False)
        return "\n".join([block.caption, *block.columns.values(), cells])
    return block.caption + json.dumps(block.spec, default=str)


def built(engine, filters: Filters, items=DEFAULT_ITEMS, **fields):
    report = build_report(engine, request_for(filters, items, **fields))
    return {result.key: result for result in report.results}


# --- the catalog ------------------------------------------------------------------------


def test_catalog_has_the_four_page_modules_with_kpis_charts_and_tables():
    assert list(MODULES) == [
        "overview",
        "analytics",
        "users",
        "billing",
        "quality",
        "alerts",
        "audit",
    ]
    for module in ["overview", "analytics", "users", "billing"]:
        kinds = {spec.kind for spec in items_of(module)}
        assert kinds == {"kpis", "chart", "table"}, module
    assert {spec.kind for spec in items_of("alerts")} == {"table"}
    assert [spec.key for spec in items_of("audit")] == ["audit.events"]
    assert len({spec.key for spec in CATALOG}) == len(CATALOG) == len(DEFAULT_ITEMS)
    assert all(spec.key.startswith(spec.module + ".") for spec in CATALOG)


def test_unknown_item_or_module_names_the_valid_ones():
    with pytest.raises(KeyError, match=r"overview\.kpis.*billing\.unpriced"):
        item("overview.nope")
    with pytest.raises(
        KeyError, match="overview, analytics, users, billing, quality, alerts, audit"
    ):
        items_of("sessions")


# --- numbers ------------------------------------------------------------------------------


def test_overview_kpis_equal_the_hand_counted_figures(engine):
    build_two_teams(engine, TODAY)
    lines = {x.label: x.value for x in built(engine, LAST_30_DAYS)["overview.kpis"].block.lines}
    # Teams A and B in the last 30 days (tests/app_support.py): users ana, arno, ada,
    # bjorn, bruno, bianca (6); ada never traced (5 active); ana's first trace is 40 days
    # ago, so arno, bjorn, bruno, bianca are new (4). Runs a1-a4 + b0-b5 = 10; sessions
    # s-a1, s-a2, s-b0..s-b5 = 8; a2 errors, a4 runs: 1 error of 9 finished.
    # Cost 0.25 + 0 + 0.125 + 6 × 1.5 = 9.375; calls 3 + 6 = 9, one unpriced.
    # Tokens (1000+200) + (500+100) + (300+50) + 6 × (2000+400) = 16,550.
    assert lines == {
        "Total users": "6",
        "Active users": "5",
        "New users": "4",
        "Activation rate": "83.3%",
        "Runs": "10",
        "Sessions": "8",
        "Error rate": "11.1%",
        "Cost · 89% priced": "$9.38",
        "Priced share of calls": "88.9%",
        "Tokens (input + output)": "16,550",
    }


def test_report_kpis_equal_metrics_json_for_the_same_filters(engine):
    build_two_teams(engine, TODAY)
    filters = replace(LAST_30_DAYS, teams=(TEAM_A,))
    lines = {x.label: x.value for x in built(engine, filters)["overview.kpis"].block.lines}
    metrics = headline_metrics(engine, filters)
    assert lines["Runs"] == f"{metrics['traces']:,}"
    assert lines["Active users"] == f"{metrics['users_active']:,}"
    assert lines["Error rate"] == f"{metrics['error_rate'] * 100:.1f}%"
    assert lines["Tokens (input + output)"] == (
        f"{metrics['input_tokens'] + metrics['output_tokens']:,}"
    )
    # Team A alone (by hand): cost 0.25 + 0.125, 2 of 3 calls priced.
    assert metrics["cost_usd"] == pytest.approx(0.375)
    assert lines["Cost · 67% priced"] == "$0.375"


def test_billing_month_item_uses_the_requested_month(engine):
    ds = Dataset(engine)
    ds.user("ana")
    ds.trace(
        "m", user="ana", start=datetime(2026, 2, 10, 9), spans=[root(), generation(cost_usd=0.5)]
    )
    ds.trace(
        "n", user="ana", start=datetime(2026, 3, 2, 9), spans=[root(), generation(cost_usd=0.3)]
    )
    february = month_number(date(2026, 2, 1))
    past = built(engine, LAST_30_DAYS, ["billing.month"], billing_month=february)
    assert {x.label: x.value for x in past["billing.month"].block.lines} == {
        "Month cost · 100% priced": "$0.50",
        "LLM calls": "1",
    }
    # No month chosen: the month the report was made in (20 March), in progress.
    # Forecast = 0.30 month to date ÷ 20 elapsed days × 31 days = 0.465.
    current = built(engine, LAST_30_DAYS, ["billing.month"])
    assert {x.label: x.value for x in current["billing.month"].block.lines} == {
        "Month to date · 100% priced": "$0.30",
        "Month-end forecast · 100% priced": "$0.465",
        "Elapsed days": "20 of 31",
    }


def test_size_estimate_counts_the_periods_traces_and_llm_calls(engine, monkeypatch):
    build_two_teams(engine, TODAY)
    # 10 traces and 9 LLM calls in the last 30 days (a0 is 40 days ago).
    estimate = estimate_size(engine, LAST_30_DAYS)
    assert (estimate.rows, estimate.large) == (19, False)
    assert estimate_size(engine, replace(LAST_30_DAYS, teams=(TEAM_A,))).rows == 4 + 3
    monkeypatch.setattr(builder, "ROWS_PER_SECOND", 1)
    assert estimate_size(engine, LAST_30_DAYS).large is True


def test_items_of_one_build_share_a_query_they_both_need(engine, monkeypatch):
    build_two_teams(engine, TODAY)
    calls = []
    real = queries.cost_by_model

    def counting(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(queries, "cost_by_model", counting)
    keys = ["billing.model_costs", "billing.tokens", "billing.by_model", "billing.unpriced"]
    first = built(engine, LAST_30_DAYS, keys)
    assert calls == [LAST_30_DAYS]  # once for the four items
    built(engine, LAST_30_DAYS, keys)
    assert len(calls) == 2  # a new build reads the store again
    assert first["billing.by_model"].block.frame["calls"].tolist() == ["9"]


# --- failures ------------------------------------------------------------------------------


class Flaky:
    """A build that raises until ``healed``, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.healed = False

    def __call__(self, engine, request):
        self.calls += 1
        if not self.healed:
            raise RuntimeError("the store went away\n[SQL: SELECT secret FROM trace]")
        return KpiBlock(()), EXACT


def counted(spec: ItemSpec, counts: dict) -> ItemSpec:
    def build(engine, request):
        counts[spec.key] = counts.get(spec.key, 0) + 1
        return spec.build(engine, request)

    return replace(spec, build=build)


def test_a_failing_item_is_marked_failed_and_retried_alone(engine):
    build_two_teams(engine, TODAY)
    counts: dict[str, int] = {}
    flaky = Flaky()
    catalog = (
        counted(item("overview.kpis"), counts),
        ItemSpec("overview.broken", "overview", "Broken", "kpis", flaky),
        counted(item("users.table"), counts),
    )
    keys = [spec.key for spec in catalog]
    seen = []
    report = build_report(
        engine,
        request_for(LAST_30_DAYS, keys),
        progress=lambda done, total, title: seen.append((done, total, title)),
        catalog=catalog,
    )
    assert [r.status for r in report.results] == [ItemStatus.OK, ItemStatus.FAILED, ItemStatus.OK]
    broken = report.results[1]
    assert broken.block is None
    assert broken.error.startswith("the store went away (RuntimeError)")
    assert "SQL" not in broken.error and "\n" not in broken.error
    assert report.results[2].block.frame["external_id"].tolist()  # the others are whole
    assert seen == [(1, 3, "Key figures"), (2, 3, "Broken"), (3, 3, "Users")]

    flaky.healed = True
    retried = retry_failed(engine, report, catalog=catalog)
    assert [r.status for r in retried.results] == [ItemStatus.OK] * 3
    assert flaky.calls == 2
    assert counts == {"overview.kpis": 1, "users.table": 1}  # not rebuilt
    assert retried.results[0] is report.results[0] and retried.results[2] is report.results[2]


def test_a_failed_users_list_says_its_snapshot_is_unavailable(engine):
    build_two_teams(engine, TODAY)

    def broken(engine, request):
        raise ValueError("no")

    catalog = (replace(item("users.table"), build=broken),)
    result = build_report(engine, request_for(LAST_30_DAYS, ["users.table"]), catalog=catalog)
    assert result.results[0].snapshot.label == "unavailable"


def test_an_unknown_item_key_fails_alone_naming_the_valid_keys(engine):
    report = build_report(engine, request_for(LAST_30_DAYS, ["overview.nope", "overview.kpis"]))
    unknown, kpis = report.results
    assert unknown.failed and "overview.kpis" in unknown.error
    assert not kpis.failed


# --- scoping, empty periods, fidelity, snapshots --------------------------------------------


def test_a_managers_report_holds_only_their_teams(engine):
    build_two_teams(engine, TODAY)
    report = build_report(engine, request_for(replace(LAST_30_DAYS, teams=(TEAM_A,))))
    assert not report.failed
    text = "\n".join(block_text(result.block) for result in report.results).lower()
    for name in (*TEAM_B_NAMES, TEAM_B.lower(), "borealis-staging", "borealis-bot"):
        assert name not in text
    # Team B's numbers: its 6 calls cost $9.00 and hold 14,400 tokens.
    for number in ("$9.00", "$9.38", "14,400", "16,550"):
        assert number not in text
    assert "ana" in text and "atlas-agent" in text and "$0.375" in text  # A is there


def test_an_empty_period_builds_every_item(engine):
    build_two_teams(engine, TODAY)
    quiet = Filters(start=date(2020, 1, 1), end=date(2020, 1, 31))
    for filters in (quiet, replace(LAST_30_DAYS, teams=())):
        report = build_report(engine, request_for(filters))
        assert [r.key for r in report.failed] == []
        users = next(r for r in report.results if r.key == "users.table")
        assert users.snapshot.label == "complete" and users.block.frame.empty


def test_an_environment_filter_makes_directory_figures_approximate(engine):
    build_two_teams(engine, TODAY)
    exact = built(engine, LAST_30_DAYS, ["overview.kpis", "users.table", "billing.period"])
    assert {key: r.fidelity.label for key, r in exact.items()} == dict.fromkeys(exact, "exact")
    staged = replace(LAST_30_DAYS, environments=("production",))
    found = built(engine, staged, ["overview.kpis", "users.table", "billing.period"])
    assert "environment filter does not apply" in found["overview.kpis"].fidelity.label
    assert found["users.table"].fidelity.label.startswith("approximate: ")
    assert found["billing.period"].fidelity.exact


def test_a_capped_users_list_says_n_of_m(engine, monkeypatch):
    build_two_teams(engine, TODAY)
    monkeypatch.setattr(users_blocks, "USERS_LISTED", 2)
    table = built(engine, LAST_30_DAYS, ["users.table"])["users.table"]
    # 6 users: the 5 with telemetry and ada from the directory.
    assert table.snapshot.label == "partial (2 of 6 users)"
    assert table.block.snapshot == table.snapshot
    assert len(table.block.frame) == 2


def test_a_hostile_user_name_flows_through_unchanged(engine):
    ds = Dataset(engine)
    ds.team("alpha")
    ds.user("u1", team="alpha", name=HOSTILE)
    ds.trace(
        "t", user="u1", start=datetime(2026, 3, 10, 9), spans=[root(), generation(cost_usd=1.0)]
    )
    found = built(engine, LAST_30_DAYS, ["users.table", "billing.by_user", "billing.top_users"])
    assert found["users.table"].block.frame["label"].tolist() == [HOSTILE]
    assert found["billing.by_user"].block.frame["label"].tolist() == [HOSTILE]
    chart = found["billing.top_users"].block
    assert isinstance(chart, ChartBlock)
    rows = [row for data in chart.spec["datasets"].values() for row in data]
    assert [row["label"] for row in rows] == [HOSTILE]


def test_table_cells_are_text_as_the_pages_format_them(engine):
    build_two_teams(engine, TODAY)
    table = built(engine, replace(LAST_30_DAYS, teams=(TEAM_A,)), ["users.table"])["users.table"]
    frame: pd.DataFrame = table.block.frame
    ana = frame[frame["external_id"] == "ana"].iloc[0]
    # ana: a1 (0.25, priced) and a2 (unpriced): 2 traces, 1 session that errored.
    assert (ana["traces"], ana["sessions"], ana["errored_session_rate"]) == ("2", "1", "100.0%")
    assert (ana["cost_usd"], ana["priced_share"], ana["tokens"]) == ("$0.25", "50.0%", "1,800")
    assert table.block.columns["external_id"] == "User id"
