"""The Export page, JSON beside every CSV, the purge notice, and the Settings "Data" tab."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from telemetry.models import AuditEvent, Trace, User
from telemetry.retention import run_retention, set_policy
from telemetry.timeutil import day_number, day_start_us
from tests.app_support import TEAM_A, TIMEOUT, build_two_teams, signed_in_app
from ui.export_view import READY_KEY


def _export_page(username: str) -> AppTest:
    at = signed_in_app(username).run()
    at.switch_page("../pages/export.py").run()
    assert not at.exception, at.exception
    return at


def _zip_rows(at: AppTest, name: str) -> list[dict]:
    path, _manifest = at.session_state[READY_KEY]
    with zipfile.ZipFile(path) as archive:
        return [json.loads(line) for line in io.TextIOWrapper(archive.open(name))]


def _last_30_days(ds, today) -> list[dict]:
    first = day_start_us(today - timedelta(days=29))
    return [t for t in ds.traces if t["start_us"] >= first]


def test_admin_exports_the_period_with_content_as_a_zip(app_env):
    ds = build_two_teams(app_env.engine, app_env.today)
    at = _export_page("root")
    at.multiselect[-1].set_value(["traces", "generations"])
    at.checkbox[0].check()
    (prepare,) = [b for b in at.button if b.label == "Prepare export"]
    prepare.click().run()
    assert not at.exception, at.exception
    assert [b.label for b in at.get("download_button")] == ["Download export (zip)"]
    traces = _zip_rows(at, "traces.jsonl")
    assert sorted(t["trace_id"] for t in traces) == sorted(
        t["trace_id"] for t in _last_30_days(ds, app_env.today)
    )
    assert "input_content" in _zip_rows(at, "generations.jsonl")[0]
    with app_env.engine.connect() as conn:
        (details,) = conn.execute(
            select(AuditEvent.details).where(AuditEvent.action == "export.downloaded")
        ).scalars()
    assert json.loads(details)["rows"]["traces"] == len(traces)


def test_manager_exports_own_teams_without_content(app_env):
    ds = build_two_teams(app_env.engine, app_env.today)
    at = _export_page("mia")
    assert at.checkbox[0].disabled
    (prepare,) = [b for b in at.button if b.label == "Prepare export"]
    prepare.click().run()
    traces = _zip_rows(at, "traces.jsonl")
    mine = [t for t in _last_30_days(ds, app_env.today) if t["team_id"] == ds.teams[TEAM_A]]
    assert len(traces) == len(mine) > 0
    assert {t["team"] for t in traces} == {TEAM_A}
    assert "input_content" not in _zip_rows(at, "generations.jsonl")[0]


def test_every_csv_download_has_a_json_twin(app_env, offered_downloads):
    build_two_teams(app_env.engine, app_env.today)
    at = signed_in_app("root").run()
    at.switch_page("../pages/users.py").run()
    assert not at.exception
    csv_files = {name[:-4]: text for name, _m, text in offered_downloads if name.endswith(".csv")}
    json_files = {name[:-5]: text for name, _m, text in offered_downloads if name.endswith(".json")}
    assert csv_files and csv_files.keys() == json_files.keys()
    for stem, text in csv_files.items():
        rows = json.loads(json_files[stem])
        assert len(rows) == len(text.strip().splitlines()) - 1, stem


def test_sidebar_says_when_the_period_reaches_past_a_purge(app_env):
    build_two_teams(app_env.engine, app_env.today)
    set_policy(app_env.engine, "default", content_days=3, record_days=10)
    run_retention(app_env.engine, "default", today=day_number(app_env.today))
    at = signed_in_app("root").run()
    horizon = (app_env.today - timedelta(days=10)).isoformat()
    notices = [box.value for box in at.sidebar.info]
    assert any(f"Detail before {horizon} was deleted" in text for text in notices), notices


DATA_TAB = """
from telemetry import accounts
from telemetry.db import make_engine
from ui.data_settings import render_data_settings

engine = make_engine()
account = accounts.find_account(accounts.load_config(), "{username}")
render_data_settings(engine, account)
"""


def _data_tab(username: str) -> AppTest:
    at = AppTest.from_string(DATA_TAB.format(username=username), default_timeout=TIMEOUT)
    return at.run()


def test_data_tab_refuses_bad_retention_then_saves_and_forgets_a_user(app_env):
    build_two_teams(app_env.engine, app_env.today)
    assert "Only admins" in _data_tab("mia").error[0].value
    at = _data_tab("root")
    at.number_input[0].set_value(40)
    at.number_input[1].set_value(30)
    at.button[0].click().run()  # Save retention
    assert "Not saved: content cannot be kept longer" in at.error[0].value
    at.number_input[0].set_value(-2)
    at.button[0].click().run()
    assert "at least 1" in at.error[0].value
    at.number_input[0].set_value(7)
    at.button[0].click().run()
    assert "content 7 days, records 30 days" in at.success[0].value

    at.text_input[0].input("ana")
    at.text_input[1].input("anna")
    _forget_button(at).click().run()
    assert "Nothing deleted" in at.error[0].value
    at.text_input[0].input("ana")
    at.text_input[1].input("ana")
    _forget_button(at).click().run()
    assert "Erased:" in at.success[-1].value
    with app_env.engine.connect() as conn:
        assert conn.execute(select(User.id).where(User.external_id == "ana")).first() is None
        assert conn.execute(select(Trace.id).where(Trace.trace_id == "a1")).first() is None


def _forget_button(at: AppTest):
    (button,) = [b for b in at.button if b.label == "Forget this user"]
    return button
