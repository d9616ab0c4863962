"""The README documents every command of the CLI, and every command has help text."""

from __future__ import annotations

from pathlib import Path

import pytest

from telemetry.cli import build_parser

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _commands() -> dict[str, object]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return dict(action.choices)


@pytest.mark.parametrize("command", sorted(_commands()))
def test_every_command_is_in_the_readme(command):
    assert f"`{command}" in README, f"README's command table lacks {command!r}"


@pytest.mark.parametrize("command", sorted(_commands()))
def test_every_command_has_help_text(command):
    parser = _commands()[command]
    assert parser.description, f"{command} --help has no description"


METRICS_DOC = Path(__file__).resolve().parent.parent / "docs" / "metrics.md"


@pytest.mark.parametrize(
    "section", ["## Time and periods", "## Comparisons", "## Cost", "## Session time"]
)
def test_metric_definitions_ship_with_the_product(section):
    assert section in METRICS_DOC.read_text(), f"docs/metrics.md lacks {section!r}"
    assert "docs/metrics.md" in README


def test_metric_docs_define_the_sub_day_periods_and_the_average_month():
    text = METRICS_DOC.read_text()
    for phrase in ("Last hour", "Last 24 hours", "same time of day", "**new**", "30.4375"):
        assert phrase in text, phrase
