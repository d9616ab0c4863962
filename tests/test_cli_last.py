"""``metrics --last 1h|24h`` and ``report --last``: the pinned interface, on a fixed clock."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from telemetry import timeutil
from telemetry.cli import main
from telemetry.db import DATABASE_URL_ENV
from telemetry.filters import Filters
from telemetry.reports.archive import REPORTS_DIR_ENV
from telemetry.timeutil import to_us
from tests.metrics_oracle import expected_headline
from tests.window_data import NOW_US, US_PER_HOUR, build_window_store

# The clock reads 14:36:20; a window ending "now" ends at the next whole minute, 14:37.
CLOCK_US = to_us(datetime(2026, 3, 15, 14, 36, 20))


@pytest.fixture
def store(engine, monkeypatch, tmp_path):
    ds = build_window_store(engine)
    monkeypatch.setenv(DATABASE_URL_ENV, engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv(REPORTS_DIR_ENV, str(tmp_path / "kept"))
    monkeypatch.setattr(timeutil, "now_us", lambda: CLOCK_US)
    return ds


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _json(capsys, *argv: str) -> dict:
    code, out, err = _run(capsys, "metrics", *argv, "--json")
    assert (code, err) == (0, ""), err
    return json.loads(out)


def _keys(value) -> object:
    """The key structure of a JSON value: nested dict keys, the keys of list items."""
    if isinstance(value, dict):
        return {key: _keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_keys(item) for item in value[:1]]
    return None


@pytest.mark.parametrize(("last", "hours"), [("1h", 1), ("24h", 24)])
def test_last_gives_the_keys_of_from_to_and_the_windows_figures(store, capsys, last, hours):
    window = _json(capsys, "--last", last)
    days = _json(capsys, "--from", "2026-03-14", "--to", "2026-03-15")
    assert list(window) == list(days)
    assert _keys(window) == _keys(days)  # same keys down to the filter echo and list rows
    expected = expected_headline(store, Filters.window(NOW_US - hours * US_PER_HOUR, NOW_US))
    assert {key: window[key] for key in expected} == expected
    start = "2026-03-15T13:37:00Z" if hours == 1 else "2026-03-14T14:37:00Z"
    assert window["filters"]["from"] == start
    assert window["filters"]["to"] == "2026-03-15T14:37:00Z"
    assert window["filters"]["days"] == round(hours / 24, 6)


def test_last_honours_org_and_team(store, capsys):
    window = _json(capsys, "--last", "24h", "--org", "default", "--team", "alpha")
    filters = Filters.window(NOW_US - 24 * US_PER_HOUR, NOW_US, teams=("alpha",))
    expected = expected_headline(store, filters)
    assert {key: window[key] for key in expected} == expected
    assert window["filters"]["teams"] == ["alpha"]


def test_until_pins_the_end_of_the_window(store, capsys):
    pinned = _json(capsys, "--last", "1h", "--until", "2026-03-15T14:37:00Z")
    assert pinned == _json(capsys, "--last", "1h")
    earlier = _json(capsys, "--last", "1h", "--until", "2026-03-15T13:37:00Z")
    expected = expected_headline(
        store, Filters.window(NOW_US - 2 * US_PER_HOUR, NOW_US - US_PER_HOUR)
    )
    assert {key: earlier[key] for key in expected} == expected


def test_the_table_says_the_window(store, capsys):
    code, out, _ = _run(capsys, "metrics", "--last", "1h")
    assert code == 0
    assert "2026-03-15T13:37:00Z to 2026-03-15T14:37:00Z (window, to excluded)" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--last", "1h", "--from", "2026-03-01"], "either --last or --from/--to"),
        (["--until", "2026-03-15T14:00:00Z"], "--until ends a --last window"),
        (["--last", "an hour"], "is not a duration"),
        (["--last", "0h"], "is not a duration"),
        (["--last", "1h", "--until", "2026-03-15 14:00"], "is not a timestamp"),
    ],
)
def test_bad_last_options_are_explained(store, capsys, argv, message):
    assert _exit_code(["metrics", *argv]) == 2
    assert message in capsys.readouterr().err


def _exit_code(argv: list[str]) -> int:
    """main's status, whether argparse (SystemExit) or the command refused the arguments."""
    try:
        return main(argv)
    except SystemExit as exit_info:
        return exit_info.code


def test_report_of_the_last_24_hours(store, capsys, tmp_path):
    output = tmp_path / "last.html"
    code, _, err = _run(
        capsys,
        "report",
        "--last",
        "24h",
        "--format",
        "html",
        "--modules",
        "overview",
        "-o",
        str(output),
    )
    assert (code, err) == (0, ""), err
    html = output.read_text()
    assert "14 Mar 2026 14:37 – 15 Mar 2026 14:37 (24 h)" in html  # the header's period
    kept = list((tmp_path / "kept").glob("*.json"))
    sidecar = json.loads(kept[0].read_text())
    assert (sidecar["since_us"], sidecar["until_us"]) == (NOW_US - 24 * US_PER_HOUR, NOW_US)


def test_report_needs_dates_or_last(store, capsys, tmp_path):
    assert _exit_code(["report", "--format", "html", "-o", str(tmp_path / "x.html")]) == 2
    assert "give --from and --to" in capsys.readouterr().err
