"""Each report item reads as its page block: the same caption, column titles and figures.

Both are drawn from one spec (telemetry/blocks). The test runs every dashboard page
in AppTest, finds each block by its container key (``block-<module>-<item>``), and
compares what the page drew (caption, the dataframe's column labels, the cards'
values and help) with what the report builder produced for the same filters and
store. A page that wrote its own caption or column title would differ.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

import pytest

from telemetry.alerts.access import cli_account
from telemetry.alerts.budgets import BudgetSpec, set_budget
from telemetry.alerts.evaluate import evaluate_now
from telemetry.alerts.rules import RuleSpec, save_rule
from telemetry.ingest.scores import ScoreItem
from telemetry.ingest.writer import SpanWriter
from telemetry.logins import record_auth_event
from telemetry.reports.builder import build_report
from telemetry.reports.catalog import CATALOG
from telemetry.reports.model import KpiBlock, ReportFormat, ReportRequest, TableBlock
from telemetry.scores import finish_score
from telemetry.timeutil import to_us
from tests.app_support import at_noon, build_two_teams, shown, signed_in_app
from tests.factories import generation, root, tool
from ui.block_view import block_key

# Where each module's blocks are drawn: a page, and the URL parameters of each of its tabs.
PAGES = {
    "analytics": (
        "../pages/analytics.py",
        [{"section": tab} for tab in ("Trends", "Runs", "Models", "Peak usage", "Code & outcomes")],
    ),
    "alerts": ("../pages/alerts.py", [{}]),
    "audit": ("../pages/audit.py", [{}]),
    "quality": (
        "../pages/analytics.py",
        [{"section": "Quality"}, {"section": "Quality", "button_group:quality-dimension": "model"}],
    ),
    "billing": ("../pages/billing.py", [{}]),
    "overview": ("../pages/overview.py", [{}]),
    "users": ("../pages/users.py", [{}]),
}
# Page-only columns beside a block's own: links out and sparklines, never in a report.
PAGE_ONLY_TYPES = {"link", "line_chart"}


@dataclass
class PageBlock:
    """What a page drew inside one block's container."""

    captions: list[str]
    titles: list[str] = field(default_factory=list)
    cards: list[tuple[str, str]] = field(default_factory=list)  # (value, help) per card


def drawn_blocks(page: str, query: dict) -> tuple[dict[str, PageBlock], object]:
    """The blocks ``page`` draws with URL ``query``; its "button_group:<key>" entries are set on
    the page's segmented controls after it opens."""
    controls = {k.split(":", 1)[1]: v for k, v in query.items() if k.startswith("button_group:")}
    query = {k: v for k, v in query.items() if not k.startswith("button_group:")}
    at = signed_in_app("root", query=query).run()
    at.switch_page(page).run()
    for key, value in controls.items():
        at.button_group(key=key).set_value(value).run()
    assert not at.exception, at.exception
    found = {}
    for spec in CATALOG:
        try:
            node = at.get_by_key(block_key(spec))
        except KeyError:
            continue
        block = PageBlock(captions=[shown(caption.value) for caption in node.caption])
        for frame in node.dataframe:
            config = json.loads(frame.proto.columns)
            block.titles = [
                config[name]["label"]
                for name in frame.proto.column_order
                if config[name].get("type_config", {}).get("type") not in PAGE_ONLY_TYPES
            ]
        block.cards = [(metric.value, shown(metric.help)) for metric in node.metric]
        found[spec.key] = block
    return found, at.session_state["_telemetry_view"].filters


def report_of(engine, filters, keys):
    request = ReportRequest(
        filters=filters,
        format=ReportFormat.HTML,
        items=tuple(keys),
        generated_by="root",
        generated_at_us=to_us(datetime.now().replace(microsecond=0)),
    )
    return {result.key: result for result in build_report(engine, request).results}


def build_store(engine, today):
    """Two teams (tests/app_support.py), a run with a tool call, generated code and an
    outcome, a feedback score, an alert rule that fires and a budget, so that every block has
    something to show."""
    ds = build_two_teams(engine, today)
    ds.trace(
        "coded",
        user="ana",
        session="s-coded",
        start=at_noon(today),
        agent="atlas-agent",
        spans=[
            root(attributes={"code.lines_added": 12, "task.outcome": "clean"}),
            generation(input_tokens=10, output_tokens=5, cost_usd=0.01),
            tool("search"),
        ],
    )
    score = {
        "trace_id": "coded",
        "span_id": "",
        "session_key": "",
        "name": "user_feedback",
        "value": None,
        "label": "up",
        "comment": "",
        "source": "api",
        "author": "test",
        "time_us": to_us(at_noon(today)),
    }
    SpanWriter(engine, ds.org_id, source="test").write(
        scores=[ScoreItem("score 0", finish_score(score, "s0"))]
    )
    record_auth_event(engine, "login", "root")
    admin = cli_account("root")
    rule = RuleSpec(org="default", name="Busy", metric="runs", window="mtd", threshold=1)
    save_rule(engine, admin, rule)
    set_budget(engine, admin, BudgetSpec("default", "org", "", monthly_usd=5))
    evaluate_now(engine)
    return ds


@pytest.mark.parametrize("module", sorted(PAGES))
def test_every_report_item_reads_as_its_page_block(app_env, module):
    build_store(app_env.engine, app_env.today)
    page, tabs = PAGES[module]
    drawn: dict[str, PageBlock] = {}
    for query in tabs:
        found, filters = drawn_blocks(page, query)
        drawn.update(found)
    keys = [spec.key for spec in CATALOG if spec.module == module]
    missing = sorted(set(keys) - set(drawn))
    assert not missing, f"report items without their block on the page: {missing}"
    report = report_of(app_env.engine, filters, keys)
    for key in keys:
        block, page_block = report[key].block, drawn[key]
        assert not report[key].failed, report[key].error
        assert block.caption, f"{key}: a block says what it shows"
        assert page_block.captions[0] == block.caption, key
        if isinstance(block, TableBlock):
            assert page_block.titles == list(block.columns.values()), key
        if isinstance(block, KpiBlock):
            assert page_block.cards == [(line.value, line.help) for line in block.lines], key
