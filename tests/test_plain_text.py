"""Telemetry text made inert for Streamlit's Markdown (ui/plain.py), checked without a browser.

CommonMark reads a backslash before ASCII punctuation as that character and
nothing else, so the text node a viewer gets is the escaped text with those
backslashes (and the invisible word joiners) removed: it must equal the
original, and no punctuation may be left unescaped. Streamlit 1.67 then
rewrites text nodes with the regular expressions below (copied from its
frontend bundle, static/js/StreamlitMarkdown.*.js and remark-emoji.*.js): none
may match. tests/test_browser_hostile_text.py checks the same in Chromium.
"""

from __future__ import annotations

import re

import pytest

from ui import plain

JOINER = "\u2060"
HOSTILE = [
    "![px](https://tracker.example/p.png)",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "[click](javascript:alert(1))",
    "https://evil.example/a?b=c",
    "HTTP://EVIL.EXAMPLE",
    "see www.evil.example now",
    "mail ana@evil.example",
    ":red[red] :blue-badge[x] :small[s] :help[h]",
    "$x^2$ and $$y$$",
    ":smile: :+1: :streamlit: :material/home: :material_home:",
    "a -> b <- c <-> d -- e >= f <= g ~= h",
    "**bold** _it_ ~~gone~~ `code` # not a heading",
    "1. not a list",
    "> not a quote",
    "| a | b |",
    "&lt;b&gt; &amp; &#x3C;",
    "\\*escaped already\\*",
    "<https://evil.example/auto>",
    "[ref]: https://evil.example",
]
# What Streamlit 1.67 rewrites after parsing, in text nodes (escapes no longer count there).
STREAMLIT_TEXT_REWRITES = [
    re.compile(r":\+1:|:-1:|:[\w-]+:", re.ASCII),  # remark-emoji
    re.compile(r":streamlit:"),
    re.compile(r":material_(\w+):", re.ASCII),
    re.compile(r"(^|\s)(<->|->|<-|--|>=|<=|~=)(\s|$)"),
    re.compile(r"(https?://|www(?=\.))([-.\w]+)([^ \t\r\n]*)", re.IGNORECASE | re.ASCII),
    re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)", re.ASCII),
]
ASCII_PUNCTUATION = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def text_node(markdown: str) -> str:
    """What CommonMark makes of escaped text: each backslash escape read as its character."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def unescaped_punctuation(markdown: str) -> list[str]:
    found, index = [], 0
    while index < len(markdown):
        char = markdown[index]
        if char == "\\" and index + 1 < len(markdown) and markdown[index + 1] in ASCII_PUNCTUATION:
            index += 2
            continue
        if char in ASCII_PUNCTUATION:
            found.append(char)
        index += 1
    return found


@pytest.mark.parametrize("hostile", HOSTILE)
def test_telemetry_text_reads_as_itself_with_no_markup_left(hostile):
    shown = plain.text(hostile)
    assert unescaped_punctuation(shown) == []
    assert text_node(shown).replace(JOINER, "") == hostile


@pytest.mark.parametrize("hostile", HOSTILE)
def test_streamlit_rewrites_after_parsing_find_nothing(hostile):
    node = text_node(plain.text(hostile))
    assert [rule.pattern for rule in STREAMLIT_TEXT_REWRITES if rule.search(node)] == []


def test_plain_words_numbers_and_accents_are_left_alone():
    assert plain.text("Zoë Müller 42 гпт 漢字") == "Zoë Müller 42 гпт 漢字"
    assert plain.text(None) == ""
    assert plain.text(3.5) == "3\\.5"


def test_word_joiners_go_only_where_streamlit_would_rewrite():
    assert plain.text("team:alpha svc-api x@y") == "team\\:alpha svc\\-api x\\@y"
    assert plain.text("a:b:") == f"a\\:{JOINER}b\\:"


def test_line_breaks_are_spaces_or_hard_breaks_never_blocks():
    message = "Traceback:\n\n    File x\r\n  line 2\n"
    assert plain.text(message) == "Traceback\\:  File x line 2 "
    assert plain.text(message, lines=True) == "Traceback\\:\\\nFile x\\\nline 2"
    assert plain.text("    indented") == "indented"  # four spaces would open a code block


def test_control_and_bidirectional_characters_are_shown_not_obeyed():
    assert plain.text("bell\x07 nul\x00 del\x7f") == "bell\u2407 nul\u2400 del\u2421"
    assert plain.text("invoice\u202egpj.exe") == "invoice\\[U\\+202E\\]gpj\\.exe"
    assert plain.text("\u2066x\u2069") == "\\[U\\+2066\\]x\\[U\\+2069\\]"


@pytest.mark.parametrize(
    ("value", "span"),
    [
        ("abc123", "`abc123`"),
        ("![x](https://e/x.png)", "`![x](https://e/x.png)`"),
        ("a`b", "``a`b``"),
        ("``", "``` `` ```"),
        ("`start", "`` `start ``"),
        (" padded ", "`  padded  `"),
        ("two\nlines", "`two lines`"),
        (":material/home:", f"`:{JOINER}material/home:`"),
        ("", ""),
    ],
)
def test_ids_become_code_spans_that_hold_them_literally(value, span):
    assert plain.code(value) == span
