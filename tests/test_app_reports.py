"""The Reports page per role: choose items, generate, preview, retry, keep, list, download.

Data: ``build_two_teams`` (tests/app_support.py). Reports are kept in a temporary
folder (``TELEMETRY_REPORTS_DIR``), so each test sees only its own.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from telemetry import queries
from telemetry.audit_log import AuditQuery, list_audit
from telemetry.filters import Filters
from telemetry.reports import builder
from telemetry.reports.archive import REPORTS_DIR_ENV, save_report
from telemetry.reports.builder import build_report
from telemetry.reports.catalog import MODULES, items_of
from telemetry.reports.html import render_html
from telemetry.reports.model import ReportFormat, ReportRequest
from telemetry.timeutil import to_us
from tests.app_support import TEAM_B, TEAM_B_NAMES, build_two_teams, signed_in_app


@pytest.fixture
def reports_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "reports"
    monkeypatch.setenv(REPORTS_DIR_ENV, str(folder))
    return folder


def reports_page(username: str):
    at = signed_in_app(username).run()
    at.switch_page("../pages/reports.py").run()
    assert not at.exception, at.exception
    return at


def keys_of(module: str) -> list[str]:
    return [spec.key for spec in items_of(module)]


def generate(at, *, html: bool = True):
    at.radio(key="report_format").set_value("HTML" if html else "PDF")
    at.button(key="report_generate").click().run()
    assert not at.exception, at.exception
    return at


def kept_files(folder: Path, suffix: str = ".html") -> list[Path]:
    return sorted(path for path in folder.glob(f"*{suffix}"))


def sidecar(path: Path) -> dict:
    return json.loads(path.with_name(path.name + ".json").read_text())


def test_admin_generates_html_of_two_modules_with_one_item_unticked(app_env, reports_dir):
    build_two_teams(app_env.engine, app_env.today)
    at = reports_page("root")
    overview = [key for key in keys_of("overview") if key != "overview.top_agents"]
    at.multiselect(key="report_items_overview").set_value(overview)
    for module in ("analytics", "billing", "quality", "alerts", "audit"):
        at.button(key=f"report_items_{module}_none").click().run()
    assert at.button(key="report_generate").disabled is False
    generate(at)

    (kept,) = kept_files(reports_dir)
    facts = sidecar(kept)
    assert facts["items"] == overview + keys_of("users")
    assert (facts["generated_by"], facts["failed_items"], facts["teams"]) == ("root", [], None)
    (event,) = list_audit(app_env.engine, AuditQuery(kind="report")).events.itertuples()
    assert (event.who, event.what, event.target) == ("root", "report.generate", "html")
    html = kept.read_text()
    assert "Key figures" in html and "Top agents" not in html
    # Listed for download again, and offered as the download of the new report.
    listed = at.dataframe[-1].value
    assert listed["File"].tolist() == [kept.name]
    assert at.selectbox(key="report_kept_choice").options == [kept.name]
    assert any(button.label == "Download HTML" for button in at.get("download_button"))


def test_dates_default_to_the_sidebar_period(app_env, reports_dir):
    at = reports_page("root")
    start = app_env.today - timedelta(days=29)
    (start_input, end_input) = at.date_input
    assert (start_input.value, end_input.value) == (start, app_env.today)


def test_billing_month_is_asked_only_when_billing_is_included(app_env, reports_dir):
    at = reports_page("root")
    assert at.selectbox(key="report_billing_month").value is not None
    at.button(key="report_items_billing_none").click().run()
    assert not [box for box in at.selectbox if box.key == "report_billing_month"]


def test_billing_month_defaults_to_the_month_the_period_ends_in(app_env, reports_dir):
    build_two_teams(app_env.engine, app_env.today)
    end = app_env.today.replace(day=1) - timedelta(days=1)  # last day of the previous month
    start = end - timedelta(days=6)
    query = {"period": "Custom range", "from": str(start), "to": str(end)}
    at = signed_in_app("root", query=query).run()
    at.switch_page("../pages/reports.py").run()
    assert not at.exception, at.exception
    expected = end.year * 12 + end.month - 1  # the month numbering of telemetry.timeutil
    assert at.selectbox(key="report_billing_month").value == expected


def test_generate_is_disabled_with_an_empty_selection(app_env, reports_dir):
    at = reports_page("root")
    for module in MODULES:
        at.button(key=f"report_items_{module}_none").click().run()
    assert at.button(key="report_generate").disabled is True
    assert any("Choose at least one item" in caption.value for caption in at.caption)
    at.button(key="report_items_users_all").click().run()
    assert at.button(key="report_generate").disabled is False


def test_generate_is_disabled_when_the_period_ends_before_it_starts(app_env, reports_dir):
    at = reports_page("root")
    start_input, end_input = at.date_input
    end_input.set_value(start_input.value - timedelta(days=1)).run()
    assert at.button(key="report_generate").disabled is True
    assert any("before it starts" in caption.value for caption in at.caption)


def test_a_failed_item_is_shown_and_retried_alone(app_env, reports_dir, monkeypatch):
    build_two_teams(app_env.engine, app_env.today)
    at = reports_page("root")
    for module in ("analytics", "users", "billing", "quality", "alerts"):
        at.button(key=f"report_items_{module}_none").click().run()

    def broken(*args, **kwargs):
        raise RuntimeError("agents table locked")

    real = queries.top_agents
    monkeypatch.setattr(queries, "top_agents", broken)
    generate(at)
    failures = at.dataframe[0].value
    assert failures.to_dict("records") == [
        {
            "Item": "Top agents",
            "Error": "agents table locked (RuntimeError). Retry the failed items, or narrow "
            "the period.",
        }
    ]
    (first,) = kept_files(reports_dir)
    assert sidecar(first)["failed_items"] == ["overview.top_agents"]

    monkeypatch.setattr(queries, "top_agents", real)
    at.button(key="report_retry").click().run()
    assert not at.exception, at.exception
    assert not [button for button in at.button if button.key == "report_retry"]
    # The retried report is kept beside the first one (which stays, marked with its failure).
    (newest,) = set(kept_files(reports_dir)) - {first}
    assert sidecar(newest)["failed_items"] == []
    assert "atlas-agent" in newest.read_text()


def keep_admin_report(engine, today) -> Path:
    """A report of every team made by the admin, kept as the page would keep it."""
    request = ReportRequest(
        filters=Filters(start=today - timedelta(days=29), end=today),
        format=ReportFormat.HTML,
        items=("overview.kpis", "users.table"),
        generated_by="root",
        generated_at_us=to_us(datetime(2026, 1, 1, 8)),
    )
    report = build_report(engine, request)
    return save_report(report, render_html(report).encode()).path


def test_a_manager_lists_only_their_own_reports_which_hold_only_their_teams(app_env, reports_dir):
    build_two_teams(app_env.engine, app_env.today)
    admins = keep_admin_report(app_env.engine, app_env.today)
    assert "bjorn" in admins.read_text()  # the admin's report does hold team B

    at = reports_page("mia")
    assert not [frame for frame in at.dataframe]  # nothing of the admin's is listed
    generate(at)
    mine = [path for path in kept_files(reports_dir) if path != admins]
    (kept,) = mine
    assert sidecar(kept)["teams"] == ["Avalon"] and sidecar(kept)["failed_items"] == []
    html = kept.read_text().lower()
    for name in (*TEAM_B_NAMES, TEAM_B.lower(), "borealis-bot", "borealis-staging"):
        assert name not in html
    assert "atlas-agent" in html  # team A's agent is there
    assert at.selectbox(key="report_kept_choice").options == [kept.name]
    assert at.dataframe[-1].value["By"].tolist() == ["mia"]

    root_sees = reports_page("root").selectbox(key="report_kept_choice").options
    assert sorted(root_sees) == sorted([kept.name, admins.name])


def test_a_managers_teams_come_from_the_account_not_the_link(app_env, reports_dir):
    build_two_teams(app_env.engine, app_env.today)
    at = signed_in_app("mia", query={"team": TEAM_B}).run()
    at.switch_page("../pages/reports.py").run()
    generate(at)
    (kept,) = kept_files(reports_dir)
    assert sidecar(kept)["teams"] == ["Avalon"]
    assert "bjorn" not in kept.read_text()


def test_a_pdf_report_is_kept_and_previewed(app_env, reports_dir):
    build_two_teams(app_env.engine, app_env.today)
    at = reports_page("root")
    for module in ("overview", "analytics", "billing", "quality", "alerts"):
        at.button(key=f"report_items_{module}_none").click().run()
    generate(at, html=False)
    (kept,) = kept_files(reports_dir, ".pdf")
    assert kept.read_bytes().startswith(b"%PDF")
    assert any(button.label == "Download PDF" for button in at.get("download_button"))
    assert any("Preview of the same report as HTML" in caption.value for caption in at.caption)


def test_a_large_period_warns_before_generating(app_env, reports_dir, monkeypatch):
    build_two_teams(app_env.engine, app_env.today)
    monkeypatch.setattr(builder, "LARGE_SECONDS", 0.0)
    at = reports_page("root")
    (warning,) = [w for w in at.warning if w.value.startswith("Large report")]
    # 10 traces and 9 LLM calls in the last 30 days.
    assert "about 19 traces and LLM calls" in warning.value
    assert "narrower" in warning.value


def test_a_report_of_the_last_hour_from_the_sidebar(app_env, reports_dir, monkeypatch):
    from ui import periods

    clock = to_us(datetime(2026, 3, 15, 14, 36, 20))
    monkeypatch.setattr(periods, "utc_now_us", lambda: clock)
    at = signed_in_app("root", query={"period": "Last hour"}).run()
    at.switch_page("../pages/reports.py").run()
    assert not at.exception, at.exception
    (span,) = [radio for radio in at.radio if radio.key.startswith("report_span_")]
    assert span.value == "Last hour"  # the sidebar's choice
    assert not at.date_input  # no dates to pick for a window ending now
    for module in ("analytics", "users", "billing"):
        at.button(key=f"report_items_{module}_none").click().run()
    generate(at)
    (kept,) = kept_files(reports_dir)
    facts = sidecar(kept)
    end = to_us(datetime(2026, 3, 15, 14, 37))
    assert (facts["since_us"], facts["until_us"]) == (end - 3_600_000_000, end)
    assert "15 Mar 2026, 13:37–14:37 (1 h)" in kept.read_text()
    assert at.dataframe[-1].value["Period"].tolist() == ["15 Mar 2026, 13:37–14:37 (1 h)"]
    # Dates again: the date inputs come back.
    at.radio(key=span.key).set_value("Dates").run()
    assert not at.exception, at.exception
    assert len(at.date_input) == 2
