"""The report renderers: header, fidelity, snapshot, failures, escaping, self-contained HTML, PDF.

Runs on the hand-built report of tests/report_samples.py (no database, no builder).
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader

from telemetry.reports.html import render_html, script_json, vega_bundle
from telemetry.reports.model import (
    ChartBlock,
    ItemResult,
    ItemStatus,
    KpiBlock,
    Report,
    ReportFormat,
)
from telemetry.reports.pdf import render_pdf
from tests.report_samples import (
    APPROXIMATION,
    ATTRIBUTE_NAME,
    CHART_COUNT,
    COMMENT_NAME,
    FAILURE,
    HOSTILE_NAMES,
    KPI_LINES,
    SCRIPT_NAME,
    sample_report,
    sample_request,
)

HEADER_LINES = (
    ("Organization", "Acme Corp (default)"),
    ("Period", "02 Mar 2026 – 08 Mar 2026 (7 days), UTC"),
    ("Billing month", "March 2026"),
    ("Teams", "teams alpha, beta"),
    ("Environments", "all environments"),
    ("Generated", "2026-03-09 07:30 UTC by ana"),
)


class Parsed(HTMLParser):
    """Every start tag with its attributes, the text of each cell, and each script's body."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.cells: list[str] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.text: list[str] = []
        self._open: str | None = None
        self._buffer: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("td", "th", "script"):
            self._open, self._buffer = tag, []

    def handle_endtag(self, tag):
        if tag == self._open:
            body = "".join(self._buffer)
            if tag == "script":
                self.scripts.append((self.tags[-1][1] if self.tags else {}, body))
            else:
                self.cells.append(body)
            self._open = None

    def handle_data(self, data):
        if self._open:
            self._buffer.append(data)
        if self._open != "script":
            self.text.append(data)

    @property
    def visible_text(self) -> str:
        return " ".join(" ".join(self.text).split())


@pytest.fixture(scope="module")
def html_text() -> str:
    return render_html(sample_report())


@pytest.fixture(scope="module")
def parsed(html_text) -> Parsed:
    return Parsed(html_text)


@pytest.fixture(scope="module")
def pdf_text() -> str:
    reader = PdfReader(io.BytesIO(render_pdf(sample_report(ReportFormat.PDF))))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture(scope="module")
def pdf_reader() -> PdfReader:
    return PdfReader(io.BytesIO(render_pdf(sample_report(ReportFormat.PDF))))


def _flat(text: str) -> str:
    return " ".join(text.split())


# --- HTML ---------------------------------------------------------------------------


def test_html_header_names_organization_period_billing_month_filters_and_author(parsed):
    for label, text in HEADER_LINES:
        assert [label, text] in [parsed.cells[i : i + 2] for i in range(len(parsed.cells) - 1)]


def test_html_every_block_states_its_fidelity_and_the_users_block_its_snapshot(parsed):
    text = parsed.visible_text
    assert text.count("Filter fidelity: exact") == 3
    assert text.count(f"Filter fidelity: approximate: {APPROXIMATION}") == 1
    assert text.count("Filter fidelity: not applicable (the item failed)") == 2
    assert "User snapshot: partial (3 of 5 users)" in text
    # The failed item that lists users has none to show; other failed items have no snapshot.
    assert "User snapshot: unavailable" in text
    assert text.count("User snapshot:") == 2


def test_html_complete_snapshot_when_every_user_is_listed():
    text = Parsed(render_html(sample_report(users_total=3))).visible_text
    assert "User snapshot: complete" in text and "partial" not in text


def test_html_shows_failed_items_with_their_error_and_names_them_in_the_header(parsed):
    text = parsed.visible_text
    assert f"This item failed: {FAILURE}" in text
    assert "This item failed: timeout" in text
    assert "2 of 6 items failed: Forecast (billing.forecast), Top users (users.top)." in text


def test_billing_month_defaults_to_the_month_of_generation_and_is_none_without_billing():
    report = sample_report()
    no_month = dataclasses.replace(report.request, billing_month=None)
    text = Parsed(render_html(dataclasses.replace(report, request=no_month))).visible_text
    assert "Billing month March 2026" in text  # generated on 9 March 2026
    overview_only = dataclasses.replace(no_month, items=("overview.kpis",))
    kpis = report.results[:1]
    text = Parsed(render_html(Report(overview_only, kpis))).visible_text
    assert "Billing month none (no Billing module)" in text


def test_html_kpi_lines_show_label_value_and_change(parsed):
    for line in KPI_LINES:
        index = parsed.cells.index(line.label)
        assert parsed.cells[index + 1 : index + 3] == [line.value, line.change or ""]


def test_html_hostile_user_names_are_text_not_markup(html_text, parsed):
    # The names read back as the exact text of table cells ...
    assert [cell for cell in parsed.cells if cell in HOSTILE_NAMES] == list(HOSTILE_NAMES)
    # ... and created no element: no <img>, and only the report's own four scripts.
    assert "img" not in {tag for tag, _ in parsed.tags}
    assert [attrs.get("id") for attrs, _ in parsed.scripts] == [
        "chart-specs",
        "embed-options",
        None,
        None,
    ]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text
    assert "onerror=alert(1)&gt;" in html_text


def test_chart_specs_cannot_close_their_script_and_keep_the_hostile_values(parsed):
    body = parsed.scripts[0][1]
    assert "<" not in body and ">" not in body
    specs = json.loads(body)
    assert sorted(specs) == ["chart-1", "chart-2"]
    values = json.dumps(specs, ensure_ascii=False)
    for name in HOSTILE_NAMES:
        assert json.dumps(name, ensure_ascii=False) in values
    assert "$schema" not in specs["chart-1"]


def test_script_json_escapes_what_could_end_a_script():
    text = script_json({"a": "</script><!-- & \u2028"})
    assert not set("<>&\u2028") & set(text)
    assert json.loads(text) == {"a": "</script><!-- & \u2028"}


def test_html_inlines_the_vega_bundle_once_and_references_nothing_outside(html_text, parsed):
    bundle = vega_bundle()
    assert html_text.count(bundle) == 1
    assert len(bundle) > 100_000
    for tag, attrs in parsed.tags:
        for name in ("src", "href", "srcset", "poster", "data", "action"):
            assert name not in attrs, f"<{tag} {name}=...>"
    outside = html_text.replace(bundle, "")
    assert not re.search(r"https?:|//[a-z]|@import|url\(", outside, re.IGNORECASE)
    csp = next(attrs for tag, attrs in parsed.tags if attrs.get("http-equiv"))
    assert "default-src 'none'" in csp["content"]


def test_html_one_div_per_chart_and_print_styles(parsed, html_text):
    charts = [attrs for tag, attrs in parsed.tags if tag == "div" and attrs.get("class") == "chart"]
    assert [attrs["id"] for attrs in charts] == ["chart-1", "chart-2"]
    assert len(charts) == CHART_COUNT
    assert "@media print" in html_text


def test_html_without_charts_carries_no_bundle():
    kpis = ItemResult("overview.kpis", "overview", "KPIs", ItemStatus.OK, KpiBlock(KPI_LINES))
    text = render_html(Report(sample_request(("overview.kpis",)), (kpis,)))
    assert "<script" not in text
    assert "1,234" in text


def test_a_chart_that_cannot_be_serialised_fails_alone():
    broken = ChartBlock({"mark": "bar", "data": {"values": [{"x": float("nan")}]}})
    items = (
        ItemResult("a.chart", "a", "Broken", ItemStatus.OK, broken),
        ItemResult("a.kpis", "a", "KPIs", ItemStatus.OK, KpiBlock(KPI_LINES)),
    )
    text = Parsed(render_html(Report(sample_request(("a.chart", "a.kpis")), items))).visible_text
    assert "This chart could not be drawn" in text and "1,234" in text


def test_table_shows_only_the_listed_columns(parsed):
    assert "User" in parsed.cells and "Runs" in parsed.cells
    assert "x" not in parsed.cells and "internal" not in parsed.visible_text


# --- PDF ----------------------------------------------------------------------------


def test_pdf_header_lists_organization_period_billing_month_filters_and_author(pdf_text):
    flat = _flat(pdf_text)
    for label, text in HEADER_LINES:
        assert f"{label} {text}" in flat


def test_pdf_carries_kpi_values_fidelity_snapshot_and_failures(pdf_text):
    flat = _flat(pdf_text)
    for line in KPI_LINES:
        assert f"{line.label} {line.value}" in flat
    assert flat.count("Filter fidelity: exact") == 3
    assert f"Filter fidelity: approximate: {APPROXIMATION}" in flat
    assert "User snapshot: partial (3 of 5 users)" in flat
    assert "User snapshot: unavailable" in flat
    assert f"This item failed: {FAILURE}" in flat
    assert "2 of 6 items failed" in flat


def test_pdf_prints_hostile_user_names_as_text(pdf_text):
    flat = _flat(pdf_text)
    for name in (SCRIPT_NAME, ATTRIBUTE_NAME, COMMENT_NAME):
        assert name in flat


def test_pdf_numbers_its_pages(pdf_reader):
    pages = len(pdf_reader.pages)
    assert pages >= 2
    for number, page in enumerate(pdf_reader.pages, start=1):
        assert re.findall(r"· page (\d+)", page.extract_text()) == [str(number)]


def test_pdf_draws_each_chart_as_an_image(pdf_reader):
    images = sum(len(page.images) for page in pdf_reader.pages)
    assert images == CHART_COUNT


def test_pdf_chart_that_cannot_be_drawn_fails_alone():
    items = (
        ItemResult("a.chart", "a", "Broken", ItemStatus.OK, ChartBlock({"mark": "no-such-mark"})),
        ItemResult("a.kpis", "a", "KPIs", ItemStatus.OK, KpiBlock(KPI_LINES)),
    )
    request = sample_request(("a.chart", "a.kpis"), ReportFormat.PDF)
    reader = PdfReader(io.BytesIO(render_pdf(Report(request, items))))
    text = _flat(" ".join(page.extract_text() for page in reader.pages))
    assert "This chart could not be drawn" in text and "Runs 1,234" in text
