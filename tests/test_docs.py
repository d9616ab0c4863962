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
