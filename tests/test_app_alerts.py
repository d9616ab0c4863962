"""The Alerts page and the Overview banner, as an admin and as a manager (AppTest)."""

from __future__ import annotations

from telemetry.alerts.access import cli_account
from telemetry.alerts.budgets import BudgetSpec, set_budget
from telemetry.alerts.evaluate import evaluate_now
from telemetry.alerts.rules import RuleSpec, list_rules, save_rule
from tests.app_support import TEAM_A, TEAM_B, all_text, build_two_teams, shown, signed_in_app

ADMIN = cli_account("root")


def page(username: str, path: str = "../pages/alerts.py"):
    at = signed_in_app(username).run()
    at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


def two_rules(engine):
    """Team B's runs all succeed, team A's error rate is 1/3: both rules fire over 30 days."""
    for name, team, metric, threshold in (
        ("B runs", TEAM_B, "runs", 1),
        ("A errors", TEAM_A, "error_rate", 0.2),
    ):
        spec = RuleSpec(
            org="default",
            name=name,
            metric=metric,
            window="mtd",
            threshold=threshold,
            teams=(team,),
        )
        save_rule(engine, ADMIN, spec)


def test_admin_sees_every_rule_and_the_channels_tab(app_env):
    build_two_teams(app_env.engine, app_env.today)
    two_rules(app_env.engine)
    at = page("root")
    text = all_text(at)
    assert "B runs" in text and "A errors" in text
    assert [tab.label for tab in at.tabs] == ["Rules", "History", "Budgets", "Channels"]


def test_manager_sees_only_their_teams_rules_and_budgets(app_env):
    build_two_teams(app_env.engine, app_env.today)
    two_rules(app_env.engine)
    set_budget(app_env.engine, ADMIN, BudgetSpec("default", "team", TEAM_B, monthly_usd=5))
    at = page("mia")
    text = all_text(at)
    assert "A errors" in text
    assert "B runs" not in text and TEAM_B not in text
    assert [tab.label for tab in at.tabs] == ["Rules", "History", "Budgets"]


def test_overview_banner_shows_firing_rules_in_the_viewers_scope(app_env):
    ds = build_two_teams(app_env.engine, app_env.today)
    assert ds.traces
    spec = RuleSpec(
        org="default", name="B runs", metric="runs", window="7d", threshold=0, teams=(TEAM_B,)
    )
    save_rule(app_env.engine, ADMIN, spec)
    evaluate_now(app_env.engine)
    admin = page("root", "../pages/overview.py")
    assert any("B runs" in shown(error.value) for error in admin.error)
    manager = page("mia", "../pages/overview.py")
    assert not any("alert rule" in error.value for error in manager.error)


def fill_rule(at, *, name: str, threshold: str):
    at.text_input(key="new_rule_name").input(name)
    at.selectbox(key="new_rule_metric").select("runs")
    at.selectbox(key="new_rule_window").select("7d")
    at.text_input(key="new_rule_threshold").input(threshold)
    at.multiselect(key="new_rule_teams").select(TEAM_A)


def test_manager_tries_then_saves_a_rule_and_bad_input_is_refused(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = page("mia")
    fill_rule(at, name="Busy A", threshold="lots")
    at.button(key="FormSubmitter:new_rule-Save rule").click().run()
    assert any("alert threshold 'lots' is not a number" in shown(e.value) for e in at.error)
    assert list_rules(app_env.engine, ADMIN, "default") == []
    fill_rule(at, name="Busy A", threshold="0")
    at.button(key="FormSubmitter:new_rule-Try on the last 30 days").click().run()
    assert not at.exception, at.exception
    summaries = [block.value for block in [*at.warning, *at.info]]
    assert any(text.startswith("Would have fired") for text in summaries), summaries
    assert any("Sampled once a day" in caption.value for caption in at.caption)
    at.button(key="FormSubmitter:new_rule-Save rule").click().run()
    (rule,) = list_rules(app_env.engine, ADMIN, "default")
    assert (rule.spec.name, rule.spec.teams) == ("Busy A", (TEAM_A,))
