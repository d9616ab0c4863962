"""``python -m telemetry report``: numbers of ``metrics --json``, archive, exit codes, errors."""

from __future__ import annotations

import dataclasses
import io
import json
import re

import pytest
from pypdf import PdfReader

import telemetry.reports.builder as builder
from telemetry.accounts import Account
from telemetry.cli import main
from telemetry.db import DATABASE_URL_ENV
from telemetry.reports.archive import REPORTS_DIR_ENV, list_reports
from tests.edge_case_week import build_edge_case_week

WEEK = ["--from", "2026-03-02", "--to", "2026-03-08"]
ADMIN = Account(username="root", name="Root", role="admin")
# KPI label as the report prints it -> the key of `metrics --json` holding the same number.
KPI_KEYS = {
    "Total users": "users_total",
    "Active users": "users_active",
    "New users": "users_new",
    "Activation rate": "activation_rate",
    "Runs": "traces",
    "Sessions": "sessions",
    "Error rate": "error_rate",
    "Cost": "cost_usd",
    "Priced share of calls": "priced_share",
    "Tokens (input + output)": "tokens",
}


@pytest.fixture
def week_store(engine, monkeypatch, tmp_path):
    build_edge_case_week(engine)
    monkeypatch.setenv(DATABASE_URL_ENV, engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv(REPORTS_DIR_ENV, str(tmp_path / "kept"))
    return engine


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _metrics(capsys, *filters: str) -> dict:
    code, out, _ = _run(capsys, "metrics", *WEEK, *filters, "--json")
    assert code == 0
    figures = json.loads(out)
    figures["tokens"] = figures["input_tokens"] + figures["output_tokens"]
    return figures


def _pdf_text(path) -> str:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def _key_figures(text: str) -> dict[str, str]:
    """Label -> value of the "Key figures" block (the Overview KPIs) in the report's text."""
    block = text[text.index("Key figures") :]
    found = {}
    for label in KPI_KEYS:
        # The cost's label carries its priced share: "Cost · 92% priced $0.063".
        suffix = r"(?: · [\d.]+% priced)?" if label == "Cost" else ""
        match = re.search(re.escape(label) + suffix + r" (\S+)", block)
        assert match, f"no {label!r} in the Key figures block"
        found[label] = match.group(1)
    return found


def _number(text: str) -> tuple[float, float]:
    """The number a value shows and how far the display's rounding may have moved it."""
    plain = text.replace(",", "").replace("$", "")
    if plain.endswith("%"):
        return float(plain[:-1]) / 100, 0.0005
    if text.startswith("$"):
        return float(plain), 0.00005 if float(plain) < 1 else 0.005
    return float(plain), 0.0


def _assert_same_figures(shown: dict[str, str], figures: dict) -> None:
    for label, key in KPI_KEYS.items():
        expected = figures[key]
        if expected is None:
            assert shown[label] == "–", label
            continue
        value, slack = _number(shown[label])
        assert abs(value - expected) <= slack, f"{label}: report {shown[label]}, metrics {expected}"


def test_pdf_of_every_module_carries_the_kpis_of_metrics_json(week_store, tmp_path, capsys):
    output = tmp_path / "week.pdf"
    code, out, err = _run(capsys, "report", *WEEK, "--format", "pdf", "-o", str(output))
    assert (code, err) == (0, "")
    assert f"wrote {output}" in out
    text = _pdf_text(output)
    _assert_same_figures(_key_figures(text), _metrics(capsys))
    for module in ("Overview", "Analytics", "Users", "Billing"):
        assert module in text
    # Counted by hand in tests/edge_case_week.py: 8 users, 12 runs in the week.
    assert _key_figures(text)["Total users"] == "8" and _key_figures(text)["Runs"] == "12"


def test_pdf_for_one_team_matches_metrics_json_for_that_team(week_store, tmp_path, capsys):
    output = tmp_path / "beta.pdf"
    argv = ["report", *WEEK, "--team", "beta", "--items", "overview.kpis", "--format", "pdf"]
    code, _, _ = _run(capsys, *argv, "-o", str(output))
    assert code == 0
    text = _pdf_text(output)
    assert "team beta" in text
    _assert_same_figures(_key_figures(text), _metrics(capsys, "--team", "beta"))


def test_html_report_is_written_and_kept_with_who_and_filters(week_store, tmp_path, capsys):
    output = tmp_path / "week.html"
    argv = ["report", *WEEK, "--modules", "overview", "--format", "html", "--by", "cron-weekly"]
    code, out, _ = _run(capsys, *argv, "-o", str(output))
    assert code == 0
    html_text = output.read_text()
    assert html_text.startswith("<!DOCTYPE html>") and "Key figures" in html_text
    assert "Billing month none (no Billing module)" in " ".join(
        re.sub(r"<[^>]+>", " ", html_text).split()
    )
    [kept] = list_reports(None, ADMIN)
    assert kept.path.read_bytes() == output.read_bytes()
    assert f"kept as {kept.path}" in out
    assert (kept.generated_by, kept.org, kept.format.value) == ("cron-weekly", "default", "html")
    assert kept.items == ("overview.kpis", "overview.activity", "overview.modules",
                          "overview.top_agents")  # fmt: skip
    assert list_reports(None, Account(username="mia", name="Mia", role="manager")) == []


def test_no_archive_keeps_nothing(week_store, tmp_path, capsys):
    output = tmp_path / "k.pdf"
    argv = ["report", *WEEK, "--items", "overview.kpis", "--format", "pdf", "--no-archive"]
    code, out, _ = _run(capsys, *argv, "-o", str(output))
    assert code == 0 and output.exists() and "kept as" not in out
    assert list_reports(None, ADMIN) == []


def test_a_failed_item_exits_1_naming_it_and_the_report_is_still_written(
    week_store, tmp_path, capsys, monkeypatch
):
    def broken(engine, request):
        raise RuntimeError("the cost query timed out")

    catalog = tuple(
        dataclasses.replace(spec, build=broken) if spec.key == "billing.daily_cost" else spec
        for spec in builder.CATALOG
    )
    monkeypatch.setattr(builder, "CATALOG", catalog)
    output = tmp_path / "billing.pdf"
    argv = ["report", *WEEK, "--modules", "billing", "--format", "pdf", "-o", str(output)]
    code, _, err = _run(capsys, *argv)
    assert code == 1
    assert "1 of 9 items failed" in err
    assert "billing.daily_cost (Cost per day)" in err
    text = _pdf_text(output)
    assert "This item failed" in text and "Cost per day" in text
    [kept] = list_reports(None, ADMIN)
    assert kept.failed_items == ("billing.daily_cost",)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--org", "nope"], "organization 'nope' does not exist (known: default)"),
        (["--team", "gamma"], "unknown team 'gamma' in organization 'default'; known: alpha, beta"),
        (["--items", "overview.kpis,overview.nope"], "unknown item 'overview.nope' in --items"),
        (["--modules", "overview,finance"], "unknown module 'finance' in --modules"),
        (["--from", "2026-03-09", "--to", "2026-03-08"], "--to 2026-03-08 is before --from"),
    ],
)
def test_mistakes_exit_2_saying_what_was_wrong(sqlite_engine, monkeypatch, tmp_path, capsys,
                                               argv, message):  # fmt: skip
    build_edge_case_week(sqlite_engine)
    monkeypatch.setenv(DATABASE_URL_ENV, sqlite_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv(REPORTS_DIR_ENV, str(tmp_path / "kept"))
    output = tmp_path / "never.pdf"
    base = ["report", *WEEK, "--format", "pdf", "-o", str(output)]
    code, _, err = _run(capsys, *base, *argv)
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert not output.exists()


def test_unknown_item_lists_the_known_ones(sqlite_engine, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(DATABASE_URL_ENV, sqlite_engine.url.render_as_string(hide_password=False))
    argv = ["report", *WEEK, "--format", "pdf", "--items", "users.everything", "-o", "x.pdf"]
    code, _, err = _run(capsys, *argv)
    assert code == 2
    assert "  overview.kpis\n" in err and "  billing.by_user\n" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "2026-13-01"], "'2026-13-01' is not a date in YYYY-MM-DD form"),
        (["--billing-month", "2026-3"], "'2026-3' is not a month in YYYY-MM form"),
        (["--format", "docx"], "invalid choice: 'docx'"),
    ],
)
def test_bad_arguments_exit_2_saying_the_expected_form(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--from", "2026-03-02", "--to", "2026-03-08", "--format", "pdf",
              "-o", "x.pdf", *argv])  # fmt: skip
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_help_describes_the_command_and_the_crontab_line(capsys):
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    out = capsys.readouterr().out
    for option in ("--billing-month", "--modules", "--items", "--no-archive", "--team"):
        assert option in out
    assert "0 6 * * 1" in out and r"+\%F" in out


def test_unwritable_archive_exits_2_after_writing_the_report(week_store, tmp_path, monkeypatch,
                                                             capsys):  # fmt: skip
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv(REPORTS_DIR_ENV, str(blocker))
    output = tmp_path / "k.pdf"
    argv = ["report", *WEEK, "--items", "overview.kpis", "--format", "pdf", "-o", str(output)]
    code, _, err = _run(capsys, *argv)
    assert code == 2 and output.exists()
    assert f"keeping a copy in {blocker} failed" in err and "--no-archive" in err
