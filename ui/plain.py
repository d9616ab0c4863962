"""Telemetry text made inert for Streamlit's Markdown: it shows its characters, nothing more.

Streamlit renders Markdown in captions, headings, alerts, metric labels, values and
help, tab, expander and button labels and more, so a span name such as
``![x](https://tracker.example/p.png)`` would fetch an image in the viewer's browser.
Every string that comes from telemetry (or from a URL) goes through :func:`text`,
or :func:`code` for ids, before it reaches such an element. Elements that show plain
text (dataframe cells, select box options, ``st.code``, ``st.json``, chart labels and
tooltips) take the string as it is: escaping there would show the backslashes.
"""

from __future__ import annotations

import re

# U+2060 WORD JOINER: invisible, and breaks no line. Put where Streamlit would rewrite
# text *after* parsing (backslash escapes no longer count there): emoji and icon
# shortcodes, bare URLs and e-mail addresses (GFM autolinks), and typed arrows.
_JOINER = "\u2060"
_AFTER_PARSE_REWRITES = re.compile(
    r"(?<=:)(?=[A-Za-z0-9_+-]+:)"  # :smile:, :streamlit:, :material_home:
    r"|(?<=[Hh][Tt][Tt][Pp]:)(?=//)|(?<=[Hh][Tt][Tt][Pp][Ss]:)(?=//)"  # https://...
    r"|(?<=[Ww][Ww][Ww])(?=\.)"  # www.example.com
    r"|(?<=@)(?=[-\w]+\.)"  # name@example.com
)
# Streamlit turns these into arrows and signs when spaces surround them: "a -> b" = "a → b".
_TYPED_SYMBOLS = re.compile(r"(?:(?<=\s)|^)(<->|->|<-|--|>=|<=|~=)(?=\s|$)")
# Every ASCII punctuation character may be backslash-escaped in CommonMark, and escaped
# it is only itself: no image, link, HTML, emphasis, code, table, directive or math.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_LINE_BREAKS = re.compile(r"\r\n|[\n\r\v\f\x85\u2028\u2029]")
# Explicit bidirectional controls reorder the text around them (a "Trojan Source" name
# could flip the rest of a caption): they are shown by their code point instead.
_BIDI_CONTROLS = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# Other control characters are shown as their Unicode "control pictures" (␇ for BEL).
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_CONTROL_PICTURES = {chr(code): chr(0x2400 + code) for code in range(0x20)} | {"\x7f": "\u2421"}


def text(value: object, *, lines: bool = False) -> str:
    """``value`` as Markdown that displays exactly its characters, without visible escapes.

    ``lines``: keep its line breaks (an error message with a stack, say); otherwise a
    line break reads as a space, so a heading or a label stays on one line.
    """
    shown = _visible_controls("" if value is None else str(value))
    parts = [_inert(line.lstrip(" \t")) for line in _LINE_BREAKS.split(shown)]
    # A backslash before a line break is a hard break in CommonMark: the lines stay lines.
    return ("\\\n" if lines else " ").join(part for part in parts if part or not lines)


def code(value: object) -> str:
    """``value`` as a Markdown code span (for ids): shown literally, in the code font."""
    shown = _LINE_BREAKS.sub(" ", _visible_controls("" if value is None else str(value)))
    if not shown:
        return ""
    # Streamlit rewrites ":material/" before parsing, even inside code spans.
    shown = shown.replace(":material/", f":{_JOINER}material/")
    fence = "`" * (max((len(run) for run in re.findall("`+", shown)), default=0) + 1)
    # A code span drops one space at each end when both are spaces: pad so it drops ours.
    if shown[0] in " `" or shown[-1] in " `":
        shown = f" {shown} "
    return f"{fence}{shown}{fence}"


def _inert(line: str) -> str:
    line = _TYPED_SYMBOLS.sub(lambda found: found[1][0] + _JOINER + found[1][1:], line)
    line = _AFTER_PARSE_REWRITES.sub(_JOINER, line)
    return _PUNCTUATION.sub(r"\\\1", line)


def _visible_controls(value: str) -> str:
    value = _BIDI_CONTROLS.sub(lambda found: f"[U+{ord(found[0]):04X}]", value)
    return _CONTROLS.sub(lambda found: _CONTROL_PICTURES[found[0]], value)


def user(name: str, user_id: str, *, missing: str = "–") -> str:
    """A user for Markdown: "Ana Lima (`usr_9afb…`)", the id alone when unnamed, or ``missing``."""
    if not user_id:
        return missing
    if name and name != user_id:
        return f"{text(name)} ({code(user_id)})"
    return code(user_id)
