"""The README documents every command of the CLI, every command has help text, and every
reference to a document (a file, a section, a link's anchor) points at one that ships."""

from __future__ import annotations

import re
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
    "section",
    [
        "## Entities",
        "## Time and periods",
        "## Comparisons",
        "## Adoption",
        "## Activity and quality",
        "## Tokens",
        "## Cost",
        "## Duplicate LLM calls",
        "## Session time",
        "## Users page",
        "## Filter fidelity",
    ],
)
def test_metric_definitions_ship_with_the_product(section):
    assert section in METRICS_DOC.read_text(), f"docs/metrics.md lacks {section!r}"
    assert "docs/metrics.md" in README


def test_metric_docs_define_the_sub_day_periods_and_the_average_month():
    text = METRICS_DOC.read_text()
    for phrase in ("Last hour", "Last 24 hours", "same time of day", "**new**", "30.4375"):
        assert phrase in text, phrase


def test_metric_docs_define_what_issue_14_found_missing():
    text = METRICS_DOC.read_text()
    for phrase in (
        "**Month-end forecast**",
        "days active (a user)",
        "**Peak usage**",
        "placed at the hour the *run* started",
        "Sub-day periods",
        "**Average monthly cost**",
        "same model",  # when two LLM-call spans are one call
    ):
        assert phrase in text, phrase
    assert "docs/ingest.md" in README


ROOT = Path(__file__).resolve().parent.parent
# Where the product's text lives: code, its docstrings and help, the docs, the README.
_SOURCES = ("telemetry", "ui", "pages", "tests", "bench", "scripts", "docs")
_MENTION = re.compile(r"(?<![\w/.-])((?:[\w-]+/)*[\w-]+\.md)\b")
_LINK = re.compile(r"\]\(([^)#\s]+\.md)(?:#([^)\s]+))?\)")
_SECTION = re.compile(
    r'(docs/[\w-]+\.md)(?:,\s*|\s+\(?)"([^"\n]{1,60})"(?:\s+and\s+"([^"\n]{1,60})")?'
)


def _texts() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "app.py"]
    for folder in _SOURCES:
        files += [p for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".md")]
    this = Path(__file__).resolve()  # its own examples name missing documents on purpose
    return [p for p in files if p.is_file() and "__pycache__" not in p.parts and p != this]


def _headings(doc: Path) -> list[str]:
    return [
        line.lstrip("#").strip() for line in doc.read_text().splitlines() if line.startswith("#")
    ]


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def _resolves(name: str, source: Path) -> bool:
    """Relative to the naming file, the repository, or (a bare name) the docs folder."""
    return any((base / name).is_file() for base in (source.parent, ROOT, ROOT / "docs"))


def test_every_document_named_in_the_code_and_docs_exists():
    missing = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in _texts()
        for name in _MENTION.findall(path.read_text(encoding="utf-8"))
        if not _resolves(name, path)
    ]
    assert missing == [], "references to documents that do not ship:\n" + "\n".join(missing)


def test_every_section_and_anchor_named_exists():
    wrong = []
    for path in _texts():
        text = path.read_text(encoding="utf-8")
        for doc, *sections in _SECTION.findall(text):
            headings = (
                {h.lower() for h in _headings(ROOT / doc)} if (ROOT / doc).is_file() else set()
            )
            wrong += [
                f"{path.relative_to(ROOT)}: {doc} has no section {s!r}"
                for s in sections
                if s and s.lower() not in headings
            ]
        for target, anchor in _LINK.findall(text):
            doc = path.parent / target
            if anchor and doc.is_file() and anchor not in map(_anchor, _headings(doc)):
                wrong.append(f"{path.relative_to(ROOT)}: {target} has no heading #{anchor}")
    assert wrong == [], "\n".join(wrong)


def test_the_reference_check_catches_a_missing_document(tmp_path):
    source = tmp_path / "module.py"
    source.write_text('"""Counts runs (see METRICS.md and docs/nowhere.md)."""')
    names = _MENTION.findall(source.read_text())
    assert names == ["METRICS.md", "docs/nowhere.md"]
    assert not any(_resolves(name, source) for name in names)
