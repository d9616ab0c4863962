"""Report tables never break a word, model name or e-mail address, and fit the page.

The PDF's text (pypdf) must hold each long token whole, and every word of the
table must lie within the A4 page (pdftotext -bbox). The HTML table is measured
in Chromium: no wider than the report's column, and no token split over two lines.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from telemetry.reports.html import render_html
from telemetry.reports.model import ReportFormat
from telemetry.reports.pdf import render_pdf
from tests.browser_support import chromium_browser
from tests.report_samples import LONG_TEAM, LONG_TOKENS, long_names_report

A4_WIDTH_PT = 595.0  # 21 cm
MARGIN_PT = 1.5 / 2.54 * 72  # the stylesheet's 1.5 cm side margins


@pytest.fixture(scope="module")
def pdf_bytes() -> bytes:
    return render_pdf(long_names_report(ReportFormat.PDF))


def test_pdf_keeps_model_names_emails_and_ids_whole(pdf_bytes):
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf_bytes)).pages)
    lines = text.splitlines()
    for token in LONG_TOKENS:
        assert sum(line.count(token) for line in lines) == 2, (token, text)
    # "Customer Support" may wrap at its space, never inside a word ("Customer S upport").
    assert re.findall(r"Customer\s+Support", text) and "S upport" not in text


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) missing")
def test_pdf_table_fits_the_a4_text_width(pdf_bytes, tmp_path):
    path = tmp_path / "long.pdf"
    path.write_bytes(pdf_bytes)
    boxes = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    right_edges = [
        float(x) for x in re.findall(r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)"', boxes)
    ]
    assert right_edges
    assert max(right_edges) <= A4_WIDTH_PT - MARGIN_PT + 1


@pytest.mark.browser
def test_html_table_fits_the_page_and_wraps_only_at_spaces(tmp_path):
    path = tmp_path / "long.html"
    path.write_text(render_html(long_names_report(ReportFormat.HTML)), encoding="utf-8")
    with chromium_browser() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(path.as_uri())
        # The table's own width (scrollWidth: what it would take, even when clipped) against
        # the body's content width (its max-width, less nothing: padding is outside it).
        width = page.eval_on_selector("table.data", "table => table.scrollWidth")
        column = page.evaluate("parseFloat(getComputedStyle(document.body).width)")
        # A word's span is one line high: it was not broken inside.
        tall = page.eval_on_selector_all(
            "table.data span.w",
            "spans => spans.filter(s => s.getClientRects().length > 1).map(s => s.textContent)",
        )
        cells = page.eval_on_selector_all("table.data td", "cells => cells.map(c => c.innerText)")
    assert column == 980 and width <= column
    assert tall == []
    for token in LONG_TOKENS:
        assert token in cells
    assert any(" ".join(cell.split()) == LONG_TEAM for cell in cells)
