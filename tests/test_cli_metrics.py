"""``python -m telemetry metrics``: the JSON contract, the table, the errors, the defaults."""

from __future__ import annotations

import json
from datetime import date

import pytest

from telemetry.cli import main
from telemetry.cli.metrics import period
from telemetry.db import DATABASE_URL_ENV, init_store, make_engine
from telemetry.queries import HEADLINE_KEYS
from tests.edge_case_week import build_edge_case_week

WEEK = ["--from", "2026-03-02", "--to", "2026-03-08"]
# The keys issue #2 promises (a public contract).
PROMISED_KEYS = {
    "users_total",
    "users_active",
    "users_new",
    "activation_rate",
    "traces",
    "sessions",
    "completion_rate",
    "error_rate",
    "timeout_rate",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
    "priced_share",
    "by_model",
    "by_team",
}


def _point_cli_at(monkeypatch, engine) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, engine.url.render_as_string(hide_password=False))


@pytest.fixture
def week_store(engine, monkeypatch):
    build_edge_case_week(engine)
    _point_cli_at(monkeypatch, engine)
    return engine


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_metrics_json_has_every_promised_key_with_the_weeks_values(week_store, capsys):
    code, out, err = _run(capsys, "metrics", *WEEK, "--json")
    assert (code, err) == (0, "")
    metrics = json.loads(out)
    assert set(metrics) >= PROMISED_KEYS
    assert list(metrics) == list(HEADLINE_KEYS)
    # Counted by hand in tests/edge_case_week.py's story (see test_queries_*).
    assert (metrics["users_total"], metrics["users_active"], metrics["users_new"]) == (8, 6, 4)
    assert (metrics["traces"], metrics["sessions"], metrics["activation_rate"]) == (12, 3, 0.75)
    assert metrics["input_tokens"] == 8150
    assert metrics["cost_usd"] == 0.06301
    for row in metrics["by_model"]:
        assert {"provider", "model", "calls", "input_tokens", "output_tokens", "cost_usd"} <= set(
            row
        )
    assert [row["team"] for row in metrics["by_team"]] == ["alpha", "beta", "(no team)"]
    assert set(metrics["by_team"][0]) == {"team", "users_active", "traces", "cost_usd"}


def test_metrics_json_honours_team_and_environment_options(week_store, capsys):
    argv = ["metrics", *WEEK, "--team", "beta", "--environment", "production", "--json"]
    code, out, _ = _run(capsys, *argv)
    metrics = json.loads(out)
    assert code == 0
    assert metrics["filters"]["teams"] == ["beta"]
    assert metrics["filters"]["environments"] == ["production"]
    # eve's error trace, t-late (Sunday 23:59) and bob's trace for beta.
    assert (metrics["traces"], metrics["users_total"], metrics["users_inactive"]) == (3, 2, 1)


def test_empty_period_prints_zeros_and_null_rates(week_store, capsys):
    code, out, _ = _run(capsys, "metrics", "--from", "2025-06-01", "--to", "2025-06-07", "--json")
    metrics = json.loads(out)
    assert code == 0
    assert metrics["traces"] == metrics["users_active"] == metrics["generations"] == 0
    assert metrics["error_rate"] is None and metrics["priced_share"] is None
    assert "null" in out
    assert metrics["by_model"] == metrics["by_team"] == []


def test_identical_stores_print_byte_identical_json(sqlite_engine, tmp_path, monkeypatch, capsys):
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    init_store(other)
    build_edge_case_week(sqlite_engine)
    build_edge_case_week(other, reverse=True)  # same rows, written in the other order
    outputs = []
    for store in (sqlite_engine, other):
        _point_cli_at(monkeypatch, store)
        outputs.append(_run(capsys, "metrics", *WEEK, "--json")[1])
    other.dispose()
    assert outputs[0] == outputs[1]
    assert outputs[0].count("\n") > 50  # the whole object, not an error line


def test_table_lists_sections_aligned(week_store, capsys):
    code, out, _ = _run(capsys, "metrics", *WEEK)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Organization default, 2026-03-02 .. 2026-03-08 (7 days")
    for title in ("Adoption", "Activity", "Tokens and cost", "By model", "By team"):
        assert title in lines
    adoption = lines[lines.index("Adoption") + 1 : lines.index("Activity") - 1]
    assert adoption[1].split() == ["users_total", "8"]
    assert "activation_rate  75.0%" in out
    assert len({len(line) for line in adoption}) == 1  # values right-aligned in one column
    by_team = lines[lines.index("By team") + 1 :]
    assert by_team[0].split() == ["team", "users_active", "traces", "cost_usd"]
    assert by_team[3].split() == ["(no", "team)", "1", "1", "$0.002000"]


def test_unknown_org_exits_2_naming_the_known_ones(sqlite_engine, monkeypatch, capsys):
    _point_cli_at(monkeypatch, sqlite_engine)
    code, out, err = _run(capsys, "metrics", *WEEK, "--org", "nope")
    assert (code, out) == (2, "")
    assert "organization 'nope' does not exist (known: default)" in err
    assert "Traceback" not in err


def test_to_before_from_exits_2(sqlite_engine, monkeypatch, capsys):
    _point_cli_at(monkeypatch, sqlite_engine)
    code, _, err = _run(capsys, "metrics", "--from", "2026-03-09", "--to", "2026-03-08")
    assert code == 2
    assert "--to 2026-03-08 is before --from 2026-03-09" in err


def test_bad_date_exits_2_saying_the_expected_form(sqlite_engine, monkeypatch, capsys):
    _point_cli_at(monkeypatch, sqlite_engine)
    with pytest.raises(SystemExit) as exit_info:
        main(["metrics", "--from", "2026-13-01"])
    assert exit_info.value.code == 2
    assert "'2026-13-01' is not a date in YYYY-MM-DD form" in capsys.readouterr().err


def test_default_period_is_the_last_30_days_ending_today():
    today = date(2026, 3, 8)
    assert period(None, None, today=today) == (date(2026, 2, 7), today)
    assert period(None, date(2026, 1, 31), today=today) == (date(2026, 1, 2), date(2026, 1, 31))
    assert period(date(2026, 3, 1), None, today=today) == (date(2026, 3, 1), today)


def test_help_explains_every_json_key_and_the_default_period(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["metrics", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "last 30 days ending today (UTC)" in text
    for key in HEADLINE_KEYS:
        assert f"  {key}  " in text, key
