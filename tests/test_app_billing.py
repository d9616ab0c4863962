"""The Billing page as an admin and as a manager: cards, forecast, tabs and CSV, setting a price.

Figures are worked out by hand from ``build_two_teams`` (tests/app_support.py),
last 30 days: 9 LLM calls, all gpt-4o, 8 priced (89%), costing 0.375 (team Avalon,
one of its 3 calls unpriced) + 6 x 1.5 (team Borealis) = $9.375.
"""

from __future__ import annotations

import calendar
import json
from datetime import date, timedelta

import pytest

from telemetry import format as fmt
from telemetry.cli import main as cli_main
from telemetry.models import CostSource
from telemetry.timeutil import day_end_us, day_start_us
from tests.app_support import (
    TEAM_A,
    TEAM_B_NAMES,
    all_text,
    at_noon,
    build_two_teams,
    metric_values,
    shown,
    signed_in_app,
)
from tests.factories import generation, root


def billing_page(username: str):
    at = signed_in_app(username).run()
    at.switch_page("../pages/billing.py").run()
    assert not at.exception, at.exception
    return at


def test_admin_sees_the_periods_cost_cards(app_env):
    build_two_teams(app_env.engine, app_env.today)
    values = metric_values(billing_page("root"))
    assert values["Total cost"] == "$9.38"
    # The default period is the last 30 days: 9.375 over 30 days, over 30.4375 days.
    assert values["Monthly average"] == fmt.dollars(9.375 / 30 * 30.4375)
    assert values["Total traces"] == "10"
    assert values["Active models"] == "1"
    assert values["Priced share"] == "88.9%"


def test_every_cost_card_says_its_priced_share(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = billing_page("root")
    cards = {metric.label: metric for metric in at.metric}
    # 8 of the period's 9 calls have a price (89%); the share is the card's grey note.
    for label in ("Total cost", "Monthly average", "Month to date", "Month-end forecast"):
        assert cards[label].proto.delta.endswith("% priced"), label
    assert cards["Total cost"].proto.delta == "89% priced"
    assert shown(cards["Monthly average"].help).startswith("Average monthly cost = ")
    assert any("leaves out 1 of 9 LLM calls" in warning.value for warning in at.warning)


def test_month_in_progress_shows_month_to_date_and_forecast(app_env):
    ds = build_two_teams(app_env.engine, app_env.today)
    today = app_env.today
    first = today.replace(day=1)
    calls = [
        o
        for o in ds.observations
        if o["kind"] == "generation" and day_start_us(first) <= o["start_us"] < day_end_us(today)
    ]
    mtd = sum(o["cost_usd"] for o in calls)
    length = calendar.monthrange(today.year, today.month)[1]
    at = billing_page("root")
    values = metric_values(at)
    assert at.selectbox(key="billing_month").value == today.year * 12 + today.month - 1
    assert values["Month to date"] == fmt.dollars(mtd)
    assert values["Month-end forecast"] == fmt.dollars(mtd / today.day * length)
    assert values["Elapsed days"] == f"{today.day} of {length}"


def test_a_past_billing_month_shows_its_whole_cost(app_env):
    ds = build_two_teams(app_env.engine, app_env.today)
    ds.trace(
        "old",
        user="ana",
        start=at_noon(date(2025, 6, 10)),
        spans=[root(), generation(input_tokens=10, output_tokens=1, cost_usd=2.5)],
    )
    at = billing_page("root")
    months = at.selectbox(key="billing_month")
    assert months.options[-1] == "June 2025"  # newest first; months without calls left out
    months.select_index(len(months.options) - 1).run()
    values = metric_values(at)
    assert values["Month cost"] == "$2.50"
    assert values["LLM calls"] == "1"
    assert "Month-end forecast" not in values


def test_by_model_and_by_user_tabs_download_what_they_show(app_env, csv_downloads):
    build_two_teams(app_env.engine, app_env.today)
    billing_page("root")
    by_model, by_user = csv_downloads[-2:]
    # Headers are the column titles; the table's own columns, in its order.
    assert by_model.splitlines() == [
        "Provider,Model,Cost (USD),Calls,Unpriced calls,Input tokens,Output tokens,"
        "Cache read tokens,Cache write tokens",
        "openai,gpt-4o,9.375,9,1,13800,2750,0,0",
    ]
    users = [line.split(",") for line in by_user.splitlines()]
    assert users[0] == [
        "User",
        "Team",
        "Cost (USD)",
        "Calls",
        "Unpriced calls",
        "Priced share",
        "Input tokens",
        "Output tokens",
        "Email",
        "User id",
    ]
    # Display names first (the factory names users after their id), the raw id last.
    assert [(row[0], row[2], row[-1]) for row in users[1:]] == [
        ("Bruno", "4.5", "bruno"),
        ("Bjorn", "3.0", "bjorn"),
        ("Bianca", "1.5", "bianca"),
        ("Ana", "0.25", "ana"),
        ("Arno", "0.125", "arno"),
    ]


def test_billing_csv_neutralises_formulas(app_env, csv_downloads):
    ds = build_two_teams(app_env.engine, app_env.today)
    ds.user("-2+3", team=TEAM_A, name="=cmd|'/C calc'!A0", email="@evil")
    ds.trace(
        "x1",
        user="-2+3",
        start=at_noon(app_env.today),
        spans=[root(), generation(input_tokens=1, output_tokens=1, cost_usd=100.0)],
    )
    billing_page("root")
    by_user = csv_downloads[-1].splitlines()
    assert by_user[1] == "'=cmd|'/C calc'!A0,Avalon,100.0,1,0,1.0,1,1,'@evil,'-2+3"


def test_manager_sees_only_own_team_costs_and_no_price_form(app_env, csv_downloads):
    build_two_teams(app_env.engine, app_env.today)
    at = billing_page("mia")
    values = metric_values(at)
    assert values["Total cost"] == "$0.375"
    assert values["Total traces"] == "4"
    assert values["Priced share"] == "66.7%"
    assert not at.get("form")
    assert "An admin can set a price for these models here." in [c.value for c in at.caption]
    (by_user_csv,) = [text for text in csv_downloads if text.startswith("User,")]
    assert [line.split(",")[-1] for line in by_user_csv.splitlines()[1:]] == ["ana", "arno"]
    text = (all_text(at) + " ".join(csv_downloads)).lower()
    leaked = [name for name in TEAM_B_NAMES if name in text]
    assert not leaked, f"team B's names reached the manager: {leaked}"
    assert "9.375" not in text and "$9.38" not in text


def test_manager_without_teams_sees_nothing_to_bill(app_env):
    build_two_teams(app_env.engine, app_env.today)
    at = billing_page("nobody")
    assert metric_values(at)["Total cost"] == "$0.00"
    assert any("nothing to bill" in info.value for info in at.info)
    assert not at.get("form")


def _add_unpriced_call(ds, today: date) -> None:
    ds.trace(
        "acme-1",
        user="ana",
        session="s-acme",
        start=at_noon(today - timedelta(days=1)),
        spans=[
            root(),
            generation(
                "acme-llm",
                "acme",
                input_tokens=1000,
                output_tokens=100,
                cost_source=CostSource.UNPRICED,
            ),
        ],
    )


def _set_price_in_the_form(at, model: str, input_price: float, output_price: float) -> None:
    picker = at.selectbox(key="price_model")
    (index,) = [i for i, label in enumerate(picker.options) if label.endswith(f"/ {model}")]
    picker.select_index(index)
    at.number_input(key="price_input").set_value(input_price)
    at.number_input(key="price_output").set_value(output_price)
    (submit,) = [b for b in at.button if b.label == "Set price and re-price stored calls"]
    submit.click().run()


def test_a_price_set_in_the_page_changes_cost_everywhere(app_env, capsys):
    ds = build_two_teams(app_env.engine, app_env.today)
    _add_unpriced_call(ds, app_env.today)
    at = billing_page("root")
    assert metric_values(at)["Total cost"] == "$9.38"
    # $1000 per million input and $50 per million output tokens: 1.00 + 0.005.
    _set_price_in_the_form(at, "acme-llm", 1000.0, 50.0)
    assert not at.exception
    assert any("1 stored call(s) re-priced" in s.value for s in at.success)
    expected = 9.375 + 1.005
    values = metric_values(at)
    assert values["Total cost"] == "$10.38"
    assert values["Priced share"] == "90.0%"  # 9 of 10 calls; a2's gpt-4o call is still unpriced
    models = [f.value for f in at.dataframe if "unpriced_calls" in f.value.columns]
    assert "acme-llm" not in models[-1]["model"].tolist()  # no longer unpriced

    at.switch_page("../pages/users.py").run()
    costs = {r.external_id: r.cost_usd for r in at.dataframe[0].value.itertuples()}
    assert costs["ana"] == pytest.approx(0.25 + 1.005, abs=1e-12)
    assert metric_values(at)["Cost"] == "$10.38"
    at.switch_page("../pages/overview.py").run()
    assert metric_values(at)["Cost"] == "$10.38"

    assert cli_main(["metrics", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["cost_usd"] == pytest.approx(expected, abs=1e-6)
    assert metrics["priced_generations"] == 9


def test_an_empty_price_is_refused_with_a_message(app_env):
    ds = build_two_teams(app_env.engine, app_env.today)
    _add_unpriced_call(ds, app_env.today)
    at = billing_page("root")
    (submit,) = [b for b in at.button if b.label == "Set price and re-price stored calls"]
    submit.click().run()
    assert any("Enter both the input and the output price" in e.value for e in at.error)
    assert metric_values(at)["Total cost"] == "$9.38"
