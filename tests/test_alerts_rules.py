"""Saving rules and budgets: bad input refused whole, managers held to their own teams, audit."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime

import pytest
from sqlalchemy import func, select

from telemetry.accounts import MANAGER, Account
from telemetry.alerts.access import AccessDenied, cli_account
from telemetry.alerts.budgets import BudgetSpec, list_budgets, set_budget
from telemetry.alerts.rules import (
    RuleSpec,
    delete_rule,
    get_rule,
    list_rules,
    save_rule,
    set_rule_switches,
)
from telemetry.alerts.tables import AlertChannel, AlertRule
from telemetry.models import AuditEvent
from tests.factories import Dataset, generation, root
from tests.test_jobs import ROOT

ADMIN = cli_account("root")
MIA = Account("mia", "Mia", MANAGER, teams=(("default", ("alpha",)),))


@pytest.fixture
def known(sqlite_engine):
    ds = Dataset(sqlite_engine)
    ds.user("ana", team="alpha")
    ds.user("bo", team="beta")
    ds.trace(
        "t1", user="ana", agent="helper", start=datetime(2026, 3, 2), spans=[root(), generation()]
    )
    return sqlite_engine


def spec(**fields) -> RuleSpec:
    values = {"org": "default", "name": "r", "metric": "error_rate", "window": "1h"}
    return RuleSpec(**{**values, "threshold": 0.05, **fields})


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"teams": ("alfa",)}, "unknown team 'alfa'; did you mean alpha"),
        ({"agent": "helpr"}, "unknown agent 'helpr'; did you mean helper"),
        ({"model": "gpt-5"}, "unknown model 'gpt-5'"),
        ({"user": "nobody"}, "unknown user 'nobody'"),
        ({"warn_threshold": 0.1}, "warning threshold .* is not below the alert threshold"),
        ({"direction": "below", "warn_threshold": 0.01}, "is not above the alert threshold"),
        ({"window": "30s"}, "shorter than the evaluation interval"),
        ({"window": "2w"}, "is not one of 15m, 1h, 24h, 7d, mtd"),
        ({"threshold": 5}, "rates are fractions"),
        ({"metric": "latency"}, "metric 'latency' does not exist"),
        ({"metric": "forecast_cost_usd", "threshold": 10}, "use the window mtd"),
        ({"metric": "timeout_rate", "model": "gpt-4o"}, "no timeout"),
        ({"group_by": "agent", "agent": "helper"}, "cannot also name one agent"),
        ({"name": " "}, "give a name"),
        ({"channels": (99,)}, r"channel\(s\) \[99\] do not exist"),
    ],
)
def test_bad_rules_are_refused_and_nothing_is_saved(known, fields, message):
    with pytest.raises(ValueError, match=message):
        save_rule(known, ADMIN, spec(**fields))
    assert count(known, AlertRule) == 0


def test_rule_changes_are_audited_with_before_and_after(known):
    rule_id = save_rule(known, ADMIN, spec(teams=("alpha",)))
    save_rule(known, ADMIN, spec(teams=("alpha",), threshold=0.1), rule_id=rule_id)
    delete_rule(known, ADMIN, "default", rule_id)
    with known.connect() as conn:
        rows = conn.execute(
            select(AuditEvent.action, AuditEvent.details).where(AuditEvent.action.like("alert.%"))
        ).all()
    actions = [action for action, _ in rows]
    assert actions == ["alert.rule.create", "alert.rule.update", "alert.rule.delete"]
    update = json.loads(rows[1][1])
    assert (update["before"]["threshold"], update["after"]["threshold"]) == (0.05, 0.1)
    assert json.loads(rows[2][1])["after"] is None


def test_manager_creates_only_rules_of_their_own_teams(known):
    with pytest.raises(AccessDenied, match="own teams"):
        save_rule(known, MIA, spec())  # every team
    with pytest.raises(AccessDenied, match="own teams"):
        save_rule(known, MIA, spec(teams=("alpha", "beta")))
    rule_id = save_rule(known, MIA, spec(teams=("alpha",)))
    assert [rule.id for rule in list_rules(known, MIA, "default")] == [rule_id]


def test_manager_never_sees_or_changes_other_teams_rules(known):
    other = save_rule(known, ADMIN, spec(name="beta rule", teams=("beta",)))
    everyone = save_rule(known, ADMIN, spec(name="org rule"))
    assert list_rules(known, MIA, "default") == []
    for rule_id in (other, everyone):  # crafted ids: answered as if the rule did not exist
        with pytest.raises(LookupError, match=f"no alert rule {rule_id}"):
            get_rule(known, MIA, "default", rule_id)
        with pytest.raises(LookupError):
            delete_rule(known, MIA, "default", rule_id)
        with pytest.raises(LookupError):
            set_rule_switches(known, MIA, "default", rule_id, enabled=False)
        with pytest.raises(LookupError):
            save_rule(known, MIA, spec(name="x", teams=("alpha",)), rule_id=rule_id)
    assert {rule.spec.name for rule in list_rules(known, ADMIN, "default")} == {
        "beta rule",
        "org rule",
    }


def test_manager_budgets_only_for_their_teams(known):
    set_budget(known, ADMIN, BudgetSpec("default", "team", "beta", monthly_usd=10))
    with pytest.raises(AccessDenied):
        set_budget(known, MIA, BudgetSpec("default", "org", "", monthly_usd=10))
    with pytest.raises(AccessDenied):
        set_budget(known, MIA, BudgetSpec("default", "team", "beta", monthly_usd=10))
    set_budget(known, MIA, BudgetSpec("default", "team", "alpha", monthly_usd=10))
    today = datetime(2026, 3, 2).date()
    assert [b.spec.scope for b in list_budgets(known, MIA, "default", today)] == ["team:alpha"]


def cli(env, *args):
    return subprocess.run(
        [sys.executable, "-m", "telemetry", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def cli_env(known, tmp_path, monkeypatch):
    import os

    url = known.url.render_as_string(hide_password=False)
    return {**os.environ, "TELEMETRY_DATABASE_URL": url, "TELEMETRY_AUTH_FILE": str(tmp_path)}


def test_cli_add_prints_the_id_and_bad_input_saves_nothing(known, cli_env):
    good = cli(
        cli_env,
        *("alerts", "add", "--org", "default", "--name", "Errors", "--metric", "error_rate"),
        *("--window", "1h", "--above", "0.05", "--warn-above", "0.03", "--team", "alpha"),
        *("--agent", "helper", "--min-runs", "20", "--for", "5m"),
        *("--channel", "webhook:https://example.com/hook", "--channel", "email:a@example.com"),
    )
    assert good.returncode == 0, good.stderr
    (rule,) = list_rules(known, ADMIN, "default")
    assert good.stdout.strip() == str(rule.id)
    assert (rule.spec.pending_s, rule.spec.min_runs, len(rule.spec.channels)) == (300, 20, 2)
    bad = cli(
        cli_env,
        *("alerts", "add", "--name", "Bad", "--metric", "error_rate", "--window", "1h"),
        *("--above", "0.05", "--channel", "webhook:https://example.com/other"),
        *("--channel", "webhook:file:///etc/passwd"),
    )
    assert bad.returncode == 2
    assert "is not an http(s) URL" in bad.stderr and "Traceback" not in bad.stderr
    assert count(known, AlertChannel) == 2  # the first, good channel of the bad rule: not saved
    assert len(list_rules(known, ADMIN, "default")) == 1


def test_cli_budgets_list_json_has_the_pinned_keys(known, cli_env):
    done = cli(cli_env, "budgets", "set", "--scope", "agent:helper", "--monthly-usd", "100")
    assert done.returncode == 0, done.stderr
    listed = cli(cli_env, "budgets", "list", "--json", "--today", "2026-03-02")
    (budget,) = json.loads(listed.stdout)
    assert {"scope", "budget_usd", "spent_usd", "forecast_usd", "run_out_date"} <= set(budget)
    assert (budget["scope"], budget["budget_usd"], budget["run_out_date"]) == (
        "agent:helper",
        100.0,
        None,
    )
    wrong = cli(cli_env, "budgets", "set", "--scope", "team", "--monthly-usd", "x")
    assert wrong.returncode == 2 and "write org, team:NAME" in wrong.stderr


def test_cli_run_once_at_a_time_then_history_json(known, cli_env):
    from tests.alerts_servers import webhook_server

    with webhook_server() as hook:
        added = cli(
            cli_env,
            *("alerts", "add", "--name", "Any run", "--metric", "runs", "--window", "7d"),
            *("--above", "0", "--channel", f"webhook:{hook.url}"),
        )
        assert added.returncode == 0, added.stderr
        once = cli(cli_env, "alerts", "run-once", "--at", "2026-03-03T00:00:00Z")
        assert once.returncode == 0, once.stderr
        assert "1 change(s) of state" in once.stdout and "sent 1" in once.stdout
        again = cli(cli_env, "alerts", "run-once", "--at", "2026-03-02T00:00:00Z")
        assert again.returncode == 2 and "already evaluated" in again.stderr
        tested = cli(cli_env, "alerts", "test", f"webhook:{hook.url}")
        assert tested.returncode == 0, tested.stderr
    listed = cli(cli_env, "alerts", "history", "--org", "default", "--json")
    (entry,) = json.loads(listed.stdout)
    assert {"rule", "state", "value", "threshold", "at"} <= set(entry)
    assert (entry["rule"], entry["state"], entry["value"], entry["threshold"]) == (
        "Any run",
        "ALERT",
        1,
        0,
    )
    assert entry["at"] == "2026-03-03T00:00:00Z"
    assert [received.json["type"] for received in hook.received] == ["rule", "test"]
    bad_time = cli(cli_env, "alerts", "run-once", "--at", "yesterday")
    assert bad_time.returncode == 2 and "--at 'yesterday'" in bad_time.stderr


def test_stored_settings_win_over_the_environment(known, monkeypatch):
    from telemetry import settings

    monkeypatch.setenv("TELEMETRY_PUBLIC_URL", "https://env.example.com/")
    assert settings.public_url(known) == "https://env.example.com"
    settings.set_setting(known, "public_url", "https://dash.example.com", actor="root")
    assert settings.public_url(known) == "https://dash.example.com"
    settings.set_setting(known, "public_url", "", actor="root")  # back to the variable
    assert settings.public_url(known) == "https://env.example.com"
    monkeypatch.setenv("TELEMETRY_SMTP_PORT", "twenty-five")
    assert "is not a number" in settings.smtp_settings(known).problem
    with pytest.raises(KeyError, match="unknown setting"):
        settings.get_setting(known, "nope")


def test_channel_changes_are_audited_without_their_secret(known):
    from telemetry.alerts import channels as channel_store

    spec = channel_store.ChannelSpec("webhook", "https://example.com/a", secret="hush")
    channel_id = channel_store.add_channel(known, ADMIN, "default", spec)
    moved = channel_store.ChannelSpec("webhook", "https://example.com/b", secret="hush2")
    channel_store.update_channel(known, ADMIN, "default", channel_id, moved)
    with pytest.raises(PermissionError):
        channel_store.add_channel(
            known, MIA, "default", channel_store.parse_channel("email:x@example.com")
        )
    with known.connect() as conn:
        rows = conn.execute(
            select(AuditEvent.action, AuditEvent.details).where(
                AuditEvent.action.like("alert.channel.%")
            )
        ).all()
    assert [action for action, _ in rows] == ["alert.channel.create", "alert.channel.update"]
    change = json.loads(rows[1][1])
    assert (change["before"]["target"], change["after"]["target"]) == (
        "https://example.com/a",
        "https://example.com/b",
    )
    assert "hush" not in rows[0][1] + rows[1][1]


def test_the_server_runs_the_alert_job_every_minute():
    from telemetry.server import server_jobs

    (job,) = [job for job in server_jobs() if job.name == "alerts"]
    assert job.every_s == 60
