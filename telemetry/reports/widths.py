"""PDF table columns sized so that no word, model name or e-mail address is broken.

A cell may wrap only at spaces. Each column is at least as wide as its longest
word (measured with the report font's metrics); when those minimums do not fit
the A4 text width, the table's font shrinks until they do (down to a floor).
The rest of the width goes to the columns whose text is longer than their minimum.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
BOLD_FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
FONT_SIZE = 7.5  # points, the stylesheet's table.data size
MIN_FONT_SIZE = 4.5  # below this a table is unreadable: it may overflow instead
CELL_PADDING = 5.0  # points: 2 pt either side, and a little slack for the layout's rounding


@dataclass(frozen=True)
class Layout:
    """A table's font size and column widths, in points."""

    font_size: float
    widths: tuple[float, ...]


@functools.cache
def _fonts() -> tuple[str, str]:
    """The measuring fonts: DejaVu Sans (what the PDF embeds) when installed, else Helvetica."""
    if not (FONT_FILE.is_file() and BOLD_FONT_FILE.is_file()):
        return "Helvetica", "Helvetica-Bold"
    pdfmetrics.registerFont(TTFont("ReportMeasure", str(FONT_FILE)))
    pdfmetrics.registerFont(TTFont("ReportMeasureBold", str(BOLD_FONT_FILE)))
    return "ReportMeasure", "ReportMeasureBold"


def _width(text: str, bold: bool) -> float:
    """The width of ``text`` at 1 pt."""
    regular, heavy = _fonts()
    return pdfmetrics.stringWidth(text, heavy if bold else regular, 1.0)


def _column(heading: str, cells: Sequence[str]) -> tuple[float, float]:
    """(longest word, whole longest text) of a column at 1 pt: its minimum and natural widths."""
    words = [(_width(word, True), True) for word in heading.split()]
    words += [(_width(word, False), False) for cell in cells for word in cell.split()]
    longest_word = max((width for width, _ in words), default=0.0)
    natural = max([_width(heading, True), *(_width(cell, False) for cell in cells)], default=0.0)
    return longest_word, natural


def layout(
    headings: Sequence[str],
    rows: Sequence[Sequence[str]],
    available: float,
    *,
    size: float = FONT_SIZE,
) -> Layout:
    """Column widths summing to ``available`` points, every word of every cell whole, and the
    font size (``size`` points, or smaller when the longest words need it)."""
    columns = [
        _column(heading, [row[index] for row in rows]) for index, heading in enumerate(headings)
    ]
    padding = CELL_PADDING * len(columns)
    words = sum(word for word, _ in columns)
    if words and words * size + padding > available:
        size = max(MIN_FONT_SIZE, (available - padding) / words)
    minimum = [word * size + CELL_PADDING for word, _ in columns]
    wanted = [
        max(natural * size + CELL_PADDING, low)
        for (_, natural), low in zip(columns, minimum, strict=True)
    ]
    spare = available - sum(minimum)
    extra = [want - low for want, low in zip(wanted, minimum, strict=True)]
    if spare <= 0 or not sum(extra):
        return Layout(size, tuple(minimum))
    if sum(extra) <= spare:  # everything fits on one line: share what is left evenly
        left = (spare - sum(extra)) / len(columns)
        return Layout(size, tuple(want + left for want in wanted))
    share = spare / sum(extra)
    return Layout(size, tuple(low + gap * share for low, gap in zip(minimum, extra, strict=True)))
