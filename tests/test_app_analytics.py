"""The Analytics page per role: every section drawn, a manager's page free of other teams'
data (whole element tree and CSV files), the breakdown kept in the URL, empty states, CSV safety.

Data: ``build_two_teams`` (tests/app_support.py) plus ``add_details`` below. Hand
figures for the last 30 days, all teams: runs a1..a5 + b0..b5 + b9 = 12, of which
a2 is the only error and a4 still runs (11 finished); Avalon alone: a1..a5 = 5.
"""

from __future__ import annotations

from datetime import timedelta

from telemetry.logins import record_auth_event
from telemetry.models import SpanStatus
from telemetry.timeutil import to_us
from tests.app_support import (
    TEAM_A,
    TEAM_B_NAMES,
    all_text,
    at_noon,
    build_two_teams,
    signed_in_app,
)
from tests.factories import Dataset, generation, root, tool
from ui.analytics_sections import BREAKDOWN_CHOICES

PAGE = "../pages/analytics.py"
TABS = ["Trends", "Runs", "Models", "Quality", "Peak usage", "Code & outcomes", "Audit"]
FORMULA_TOOL = "=cmd|' /C calc'!A0"
SECTIONS = [
    "Against the previous period",
    "Run statistics",
    "Commands",
    "Agent runs",
    "Tool runs",
    "Model runs",
    "Upstream efficiency",
    "Peak usage",
    "Generated code and task outcomes",
    "Audit",
]


def add_details(ds: Dataset, today) -> None:
    """Tools, commands, code reports and audit events on both teams (names of B say so)."""
    ds.trace(
        "a5",
        user="ana",
        session="s-a3",
        start=at_noon(today - timedelta(days=3)),
        module="avalon-app",
        agent="atlas-agent",
        spans=[
            root("/summarise", attributes={"code.lines_added": 10, "task.outcome": "clean"}),
            tool("avalon-search"),
            tool(FORMULA_TOOL, status=SpanStatus.ERROR),
        ],
    )
    ds.trace(
        "b9",
        user="bjorn",
        session="s-b9",
        start=at_noon(today - timedelta(days=4)),
        module="borealis-search",
        agent="borealis-bot",
        environment="borealis-staging",
        spans=[
            root("/borealis-report", attributes={"code.lines_added": 40, "task.outcome": "clean"}),
            tool("borealis-lookup"),
            generation("borealis-model", "borealis-ai", input_tokens=10, output_tokens=5),
        ],
    )
    at = to_us(at_noon(today - timedelta(days=1)))
    record_auth_event(ds.engine, "login", "root", at_us=at)
    record_auth_event(ds.engine, "login", "mia", at_us=at + 60_000_000)
    record_auth_event(ds.engine, "logout", "root", at_us=at + 120_000_000, details={"borealis": 1})


def open_page(username: str, query: dict | None = None):
    at = signed_in_app(username, query=query).run()
    return at.switch_page(PAGE).run()


def open_tab(at, label: str):
    """Select a tab (tabs are lazy: only the open one runs its queries)."""
    at.session_state["section"] = label
    return at.run()


def every_tab(at):
    """Open each tab of ``at`` in turn (the same app, run again), yielding the tab's label."""
    for label in TABS:
        open_tab(at, label)
        yield label


def frame_with(frames, *columns: str):
    """The one table among ``frames`` (or an app's tables) that has all ``columns``."""
    if not isinstance(frames, list):
        frames = [element.value for element in frames.dataframe]
    (frame,) = [frame for frame in frames if set(columns) <= set(frame.columns)]
    return frame


def assert_no_team_b(text: str) -> None:
    leaked = [name for name in TEAM_B_NAMES if name in text.lower()]
    assert not leaked, f"team B's names reached the manager: {leaked}"


def test_admin_page_draws_every_section_with_all_teams(app_env):
    ds = build_two_teams(app_env.engine, app_env.today)
    add_details(ds, app_env.today)
    at = open_page("root")
    assert not at.exception
    assert [tab.label for tab in at.tabs] == TABS
    headers, cards, frames = set(), {}, []
    for label in every_tab(at):
        assert not at.exception, label
        assert all(caption.value for caption in at.caption), label
        headers |= {header.value for header in at.subheader}
        cards |= {metric.label: metric.value for metric in at.metric}
        frames += [element.value for element in at.dataframe]
    assert set(SECTIONS) <= headers
    assert cards["Runs"] == "12" and cards["Errors"] == "1" and cards["Timeouts"] == "0"
    assert cards["Completion rate"] == "90.9%"  # 10 ok of 11 finished
    assert cards["Tool calls/run"] == "0.25"  # 3 tool calls / 12 runs
    assert cards["Logins"] == "2"  # root and mia
    agents = frame_with(frames, "p95_response_ms").set_index("agent")
    assert agents.loc["atlas-agent", "runs"] == 5 and agents.loc["borealis-bot", "runs"] == 7
    tools = frame_with(frames, "tool").set_index("tool")
    assert tools.loc[FORMULA_TOOL, "success_rate"] == 0.0
    assert tools.loc["avalon-search", "success_rate"] == 1.0
    assert set(frame_with(frames, "account")["account"]) == {"root", "mia"}
    assert set(frame_with(frames, "lines_added", "team")["team"]) == {TEAM_A, "Borealis"}


def test_manager_page_carries_no_other_team_data_in_any_tab(app_env, csv_downloads):
    ds = build_two_teams(app_env.engine, app_env.today)
    add_details(ds, app_env.today)
    at = open_page("mia")
    for choice in BREAKDOWN_CHOICES:
        at.selectbox(key="breakdown").select(choice).run()
        assert not at.exception, choice
        assert_no_team_b(all_text(at))
    for label in every_tab(at):
        assert not at.exception, label
        assert_no_team_b(all_text(at))
    assert len(csv_downloads) >= 8, "a table came without its CSV"
    for data in csv_downloads:
        assert_no_team_b(data)


def test_manager_sees_own_team_figures_and_only_own_audit_events(app_env):
    ds = build_two_teams(app_env.engine, app_env.today)
    add_details(ds, app_env.today)
    at = open_page("mia")
    cards = {metric.label: metric.value for metric in at.metric}
    assert cards["Runs"] == "5" and cards["Active users"] == "2"
    agents = frame_with(open_tab(at, "Runs"), "p95_response_ms")
    assert agents["agent"].tolist() == ["atlas-agent"]
    open_tab(at, "Audit")
    assert frame_with(at, "account")["account"].tolist() == ["mia"]
    assert set(frame_with(at, "who")["who"]) == {"mia"}


def test_breakdown_choice_is_read_from_and_bound_to_the_url(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = open_page("root", query={"breakdown": "Agent"})
    box = at.selectbox(key="breakdown")
    assert box.value == "Agent"
    assert box.proto.query_param_key == "breakdown"
    assert "By agent" in [header.value for header in at.subheader]


def test_empty_period_shows_why_each_block_is_empty(app_env):
    build_two_teams(app_env.engine, app_env.today)
    query = {"period": "Custom range", "from": "2020-01-01", "to": "2020-01-07"}
    at = open_page("root", query=query)
    notes, captions = [], []
    for label in every_tab(at):
        assert not at.exception, label
        assert not at.dataframe, label
        notes += [info.value for info in at.info]
        captions += [caption.value for caption in at.caption]
    text = " ".join(notes)
    assert "No runs or LLM calls in this period or the one before" in text
    assert "No runs in 01 Jan 2020 – 07 Jan 2020" in text
    assert "No LLM calls in" in text and "No audit events" in text
    assert any(caption.startswith("Hidden: no agent reported") for caption in captions)


def test_tab_choice_is_kept_in_the_url(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = open_page("root", query={"section": "Models"})
    assert [header.value for header in at.subheader][:2] == ["Model runs", "Upstream efficiency"]


def test_organization_without_telemetry_says_so(app_env):
    at = open_page("root")
    assert not at.exception
    assert any("has not received any telemetry yet" in info.value for info in at.info)


def test_manager_without_teams_is_told_why_the_page_is_empty(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = open_page("nobody")
    for label in every_tab(at):
        assert not at.exception, label
        assert_no_team_b(all_text(at))
    at = open_tab(at, "Trends")
    assert any("no team is selected for your account" in info.value for info in at.info)


def test_csv_downloads_neutralise_spreadsheet_formulas(app_env, csv_downloads):
    ds = build_two_teams(app_env.engine, app_env.today)
    add_details(ds, app_env.today)
    at = open_tab(open_page("root"), "Runs")
    assert not at.exception
    (tool_csv,) = [data for data in csv_downloads if "avalon-search" in data]
    cells = [cell for line in tool_csv.splitlines() for cell in line.split(",")]
    assert "'" + FORMULA_TOOL in tool_csv
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
