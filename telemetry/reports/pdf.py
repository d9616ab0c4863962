"""A report as a PDF: xhtml2pdf over escaped XHTML, charts as PNG from vl-convert, page numbers."""

from __future__ import annotations

import base64
import functools
import io
import struct
from html import escape
from pathlib import Path

import vl_convert
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy

from telemetry.reports import document, widths
from telemetry.reports.model import ChartBlock, ItemResult, KpiBlock, Report, TableBlock

# Pixels per CSS pixel in the PNGs: sharp when printed, still small.
PNG_SCALE = 1.5
# A4 portrait (21 cm) less 1.5 cm margins either side, in points.
_TEXT_WIDTH_PT = (21.0 - 3.0) / 2.54 * 72
_CSS = """
@page {
  size: a4 portrait;
  margin: 1.6cm 1.5cm 2cm 1.5cm;
  @frame footer {
    -pdf-frame-content: page-footer;
    left: 1.5cm; width: 18cm; bottom: 0.8cm; height: 0.8cm;
  }
}
body { font-family: %(font)s; font-size: 9.5pt; color: #1f2937; }
h1 { font-size: 17pt; margin: 0 0 6pt 0; }
h2 { font-size: 13pt; margin: 14pt 0 4pt 0; padding-bottom: 2pt;
  border-bottom: 1pt solid #d1d5db; -pdf-keep-with-next: true; }
h3 { font-size: 10.5pt; margin: 8pt 0 1pt 0; -pdf-keep-with-next: true; }
.meta { color: #6b7280; font-size: 8pt; margin: 0 0 3pt 0; -pdf-keep-with-next: true; }
.caption { font-size: 8.5pt; margin: 2pt 0 0 0; }
.error { color: #b91c1c; }
.warning { color: #b91c1c; border: 0.5pt solid #fca5a5; padding: 4pt; }
table.facts td { padding: 0 6pt 1pt 0; vertical-align: top; }
table.facts td.label { color: #6b7280; width: 3.2cm; }
table.kpis td { padding: 2pt 6pt 1pt 0; vertical-align: top; }
table.kpis td.label { width: 5cm; }
table.kpis td.value { font-weight: bold; font-size: 10.5pt; width: 2.6cm; }
table.kpis td.change { color: #6b7280; width: 2.2cm; }
table.kpis td.note { color: #6b7280; font-size: 7.5pt; }
table.data { font-size: 7.5pt; }
table.data th { background-color: #f3f4f6; font-weight: bold; text-align: left;
  border-bottom: 0.5pt solid #9ca3af; padding: 2pt 2pt 1pt 2pt; }
/* No cell borders: each one is four drawing commands per cell, a quarter of a big table's time. */
/* Cells wrap at spaces only: the columns are sized so that every word fits (widths.py). */
table.data td { padding: 2pt 2pt 1pt 2pt; vertical-align: top; }
#page-footer { font-size: 7.5pt; color: #6b7280; }
"""


# A local TrueType font that draws Latin Extended, Greek and Cyrillic names (Helvetica, the
# fallback, only covers Western European ones). Read from disk, embedded as a subset.
_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_FONT_FILES = {"normal": _FONT_DIR / "DejaVuSans.ttf", "bold": _FONT_DIR / "DejaVuSans-Bold.ttf"}
# No network at all, and no local file but the fonts: charts come as data: URIs.
_POLICY = ResourceAccessPolicy(allow_remote=False, base_dir=_FONT_DIR)


class PdfError(RuntimeError):
    """xhtml2pdf could not lay the document out."""


def render_pdf(report: Report) -> bytes:
    """The whole report as PDF bytes: header, each module's items, page numbers in the footer."""
    source = _document(report)
    output = io.BytesIO()
    status = pisa.CreatePDF(source, dest=output, encoding="utf-8", resource_policy=_POLICY)
    if status.err:
        raise PdfError(f"the PDF could not be laid out ({status.err} errors from xhtml2pdf)")
    return output.getvalue()


@functools.cache
def _stylesheet() -> str:
    if not all(path.is_file() for path in _FONT_FILES.values()):
        return _CSS.replace("%(font)s", "Helvetica")
    faces = "".join(
        f'@font-face {{ font-family: "Report Sans"; src: url("{path}"); font-weight: {weight}; }}\n'
        for weight, path in _FONT_FILES.items()
    )
    return faces + _CSS.replace("%(font)s", '"Report Sans"')


def _document(report: Report) -> str:
    parts = [_header(report)]
    for section in document.sections(report):
        parts.append(f"<h2>{escape(section.title)}</h2>")
        parts.extend(_item(result) for result in section.results)
    if not report.results:
        parts.append("<p>This report holds no items.</p>")
    footer = (
        f'<div id="page-footer">{escape(document.title(report))} · '
        f"{escape(document.header_facts(report)[1][1])} · "
        # "page N" only: <pdf:pagecount/> makes xhtml2pdf lay the whole document out twice.
        "page <pdf:pagenumber/></div>"
    )
    return (
        '<html><head><meta charset="utf-8"/>'
        f"<title>{escape(document.title(report))}</title><style>{_stylesheet()}</style></head>"
        f"<body>{footer}{''.join(parts)}</body></html>"
    )


def _header(report: Report) -> str:
    rows = "".join(
        f'<tr><td class="label">{escape(label)}</td><td>{escape(text)}</td></tr>'
        for label, text in document.header_facts(report)
    )
    summary = document.failure_summary(report)
    warning = f'<p class="warning">{escape(summary)}</p>' if summary else ""
    return f'<h1>{escape(document.title(report))}</h1><table class="facts">{rows}</table>{warning}'


def _item(result: ItemResult) -> str:
    meta = document.meta_html(result)
    heading = f"<h3>{escape(result.title)}</h3>"
    if result.failed:
        return f"<div>{heading}{meta}{document.failure_html(result)}</div>"
    return f"<div>{heading}{meta}{_block(result)}</div>"


def _block(result: ItemResult) -> str:
    block = result.block
    if isinstance(block, KpiBlock):
        return _kpis(block)
    if isinstance(block, ChartBlock):
        return _chart(block)
    if isinstance(block, TableBlock):
        return _table(block)
    return "<p>(nothing to show)</p>"


def _kpis(block: KpiBlock) -> str:
    rows = "".join(
        f'<tr><td class="label">{escape(label)}</td><td class="value">{escape(value)}</td>'
        f'<td class="change">{escape(change)}</td><td class="note">{escape(note)}</td></tr>'
        for label, value, change, note in document.kpi_rows(block)
    )
    return f'<table class="kpis">{rows}</table>'


def chart_png(block: ChartBlock) -> bytes:
    """The chart drawn as PNG by vl-convert (no browser, no network)."""
    return vl_convert.vegalite_to_png(document.sized_spec(block), scale=PNG_SCALE)


def _chart(block: ChartBlock) -> str:
    try:
        png = chart_png(block)
    except Exception as error:  # one undrawable chart must not sink the document
        return document.chart_error_html(error)
    width_px, height_px = _png_size(png)
    # A CSS pixel is 0.75 pt; never wider than the text column.
    width = min(_TEXT_WIDTH_PT, width_px / PNG_SCALE * 0.75)
    height = width * height_px / max(1, width_px)
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<img src="data:image/png;base64,{data}" width="{width:.0f}" height="{height:.0f}"/>'
        f"{document.caption_html(block.caption)}"
    )


def _png_size(png: bytes) -> tuple[int, int]:
    # IHDR is the first chunk: width and height are big-endian at bytes 16..24.
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _table(block: TableBlock) -> str:
    headings, rows = document.table_cells(block)
    sized = widths.layout(headings, rows, _TEXT_WIDTH_PT)
    head = "".join(
        f'<th width="{width:.1f}pt">{escape(heading)}</th>'
        for heading, width in zip(headings, sized.widths, strict=True)
    )
    _, body = document.table_html(block)
    return (
        f'<table class="data" repeat="1" style="font-size: {sized.font_size:.2f}pt">'
        f"<tr>{head}</tr>{body}</table>{document.caption_html(block.caption)}"
    )
