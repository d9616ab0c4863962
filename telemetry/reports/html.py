"""A report as one self-contained HTML file: inline CSS, live Vega-Lite charts, no network.

The Vega, Vega-Lite and vega-embed JavaScript is bundled offline by vl-convert and
inlined once; each chart is a div filled by vegaEmbed from a spec kept in a JSON
<script> block. Every string that came from telemetry is escaped with html.escape,
and the JSON is written so that nothing inside it can close its <script> element.
"""

from __future__ import annotations

import functools
import json
from html import escape
from typing import Any

import vl_convert

from telemetry.reports import document, widths
from telemetry.reports.model import ChartBlock, ItemResult, KpiBlock, Report, TableBlock

# Blocks every fetch, font, image and frame the page could try, should anything slip in.
# Vega compiles its expressions with Function(), hence 'unsafe-eval'.
_CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data: blob:"
)
# mode: the specs lose their $schema (a URL), and vega-embed would take a "concat" spec for Vega.
# Tables: 0.85em of a 16 px body (10.2 pt) in the body's 980 - 2 x 24 px (699 pt), less a
# little for the cell borders and a system font a touch wider than the measuring one.
TABLE_FONT_EM = 0.85
TABLE_FONT_PT = 16 * TABLE_FONT_EM * 0.75
TABLE_WIDTH_PT = (980 - 48) * 0.75 * 0.92
_EMBED_OPTIONS = {"mode": "vega-lite", "actions": False, "renderer": "svg", "tooltip": True}
_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2937;
  margin: 0 auto; max-width: 980px; padding: 24px; line-height: 1.4; }
h1 { font-size: 1.6em; margin: 0 0 8px; }
h2 { font-size: 1.3em; border-bottom: 2px solid #e5e7eb; padding-bottom: 4px; margin-top: 32px; }
h3 { font-size: 1.05em; margin: 0 0 4px; }
table.facts td { padding: 1px 12px 1px 0; vertical-align: top; }
table.facts td:first-child { color: #6b7280; }
.item { margin: 16px 0 24px; break-inside: avoid; page-break-inside: avoid; }
.meta { color: #6b7280; font-size: 0.85em; margin: 2px 0 8px; }
.caption { margin: 4px 0; }
.failed { border-left: 4px solid #dc2626; padding-left: 10px; }
.error { color: #b91c1c; white-space: pre-wrap; }
.warning { background: #fef2f2; border: 1px solid #fecaca; padding: 8px 12px; }
table.data { border-collapse: collapse; font-size: 0.85em; width: 100%; }
table.data th, table.data td { border: 1px solid #e5e7eb; padding: 3px 6px; text-align: left; }
/* A cell wraps at its spaces only: never inside a model name, e-mail address or id. */
table.data span.w { white-space: nowrap; }
table.data th { background: #f3f4f6; }
table.data tr { break-inside: avoid; }
table.kpis { border-collapse: collapse; }
table.kpis td { padding: 3px 16px 3px 0; }
table.kpis td.value { font-weight: 600; font-size: 1.1em; }
table.kpis td.change { color: #6b7280; }
table.kpis td.note { color: #6b7280; font-size: 0.8em; }
.chart { max-width: 100%; }
/* Wide charts (several panels) shrink to the column; the SVG's viewBox keeps its proportions. */
.chart svg.marks { max-width: 100%; height: auto; }
footer { margin-top: 32px; color: #6b7280; font-size: 0.8em; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  #vg-tooltip-element { display: none; }
}
@page { size: A4; margin: 15mm; }
"""
# Runs after the bundle: embeds every chart whose spec the JSON block holds.
_EMBED_SCRIPT = """
(function () {
  var specs = JSON.parse(document.getElementById("chart-specs").textContent);
  var options = JSON.parse(document.getElementById("embed-options").textContent);
  Object.keys(specs).forEach(function (id) {
    vegaEmbed("#" + id, specs[id], options).catch(function (error) {
      var box = document.getElementById(id);
      box.textContent = "This chart could not be drawn: " + error;
      box.className += " failed";
    });
  });
})();
"""


@functools.cache
def vega_bundle() -> str:
    """vega + vega-lite + vega-embed as one script (bundled offline once per process: slow)."""
    return vl_convert.javascript_bundle()


def script_json(value: Any) -> str:
    """JSON that is safe inside a <script> element: no "<", ">" or "&" survive as such."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, default=str)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(raw, escaped)
    # U+2028/2029 are line ends to older JavaScript parsers.
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def render_html(report: Report) -> str:
    """The whole report as one HTML document that needs no network."""
    specs: dict[str, dict[str, Any]] = {}
    body = [_header(report)]
    for number, section in enumerate(document.sections(report), start=1):
        body.append(f'<section id="module-{number}"><h2>{escape(section.title)}</h2>')
        for result in section.results:
            body.append(_item(result, specs))
        body.append("</section>")
    if not report.results:
        body.append("<p>This report holds no items.</p>")
    body.append(
        f"<footer>Generated {escape(document.generated_at_text(report.request.generated_at_us))}"
        f" by {escape(report.request.generated_by)}.</footer>"
    )
    scripts = ""
    if specs:
        scripts = (
            f'<script type="application/json" id="chart-specs">{script_json(specs)}</script>\n'
            f'<script type="application/json" id="embed-options">'
            f"{script_json(_EMBED_OPTIONS)}</script>\n"
            f"<script>{_safe_script(vega_bundle())}</script>\n"
            f"<script>{_EMBED_SCRIPT}</script>\n"
        )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(document.title(report))}</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n"
        + scripts
        + "</body>\n</html>\n"
    )


def _safe_script(code: str) -> str:
    # The bundle holds no "</script" today; if a later version did, it would end the element.
    return code.replace("</script", "<\\/script")


def _header(report: Report) -> str:
    rows = "".join(
        f"<tr><td>{escape(label)}</td><td>{escape(text)}</td></tr>"
        for label, text in document.header_facts(report)
    )
    parts = [f"<header><h1>{escape(document.title(report))}</h1>"]
    parts.append(f'<table class="facts">{rows}</table>')
    summary = document.failure_summary(report)
    if summary:
        parts.append(f'<p class="warning">{escape(summary)}</p>')
    parts.append("</header>")
    return "".join(parts)


def _item(result: ItemResult, specs: dict[str, dict[str, Any]]) -> str:
    meta_html = document.meta_html(result)
    heading = f"<h3>{escape(result.title)}</h3>"
    if result.failed:
        return f'<div class="item failed">{heading}{meta_html}{document.failure_html(result)}</div>'
    return f'<div class="item">{heading}{meta_html}{_block(result, specs)}</div>'


def _block(result: ItemResult, specs: dict[str, dict[str, Any]]) -> str:
    block = result.block
    if isinstance(block, KpiBlock):
        return _kpis(block)
    if isinstance(block, ChartBlock):
        spec = document.sized_spec(block)
        try:
            script_json(spec)  # NaN or an odd object would break every chart's JSON block
        except (TypeError, ValueError) as error:
            return document.chart_error_html(error)
        chart_id = f"chart-{len(specs) + 1}"
        specs[chart_id] = spec
        return f'<div class="chart" id="{chart_id}"></div>{document.caption_html(block.caption)}'
    if isinstance(block, TableBlock):
        return _table(block)
    return "<p>(nothing to show)</p>"


def _kpis(block: KpiBlock) -> str:
    rows = []
    for label, value, change, note in document.kpi_rows(block):
        rows.append(
            f"<tr><td>{escape(label)}</td><td class=value>{escape(value)}</td>"
            f"<td class=change>{escape(change)}</td><td class=note>{escape(note)}</td></tr>"
        )
    return f'<table class="kpis">{"".join(rows)}</table>'


def _table(block: TableBlock) -> str:
    """The table in a font small enough for its longest words to fit the page's width."""
    headings, rows = document.table_cells(block)
    sized = widths.layout(headings, rows, TABLE_WIDTH_PT, size=TABLE_FONT_PT)
    scale = TABLE_FONT_EM * sized.font_size / TABLE_FONT_PT
    head = "".join(f"<th>{_words(heading)}</th>" for heading in headings)
    body = "".join(
        "<tr>" + "".join(f"<td>{_words(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    if not rows:
        body = f'<tr><td colspan="{max(1, len(headings))}">(no rows)</td></tr>'
    return (
        f'<table class="data" style="font-size: {scale:.3f}em"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>{document.caption_html(block.caption)}"
    )


def _words(text: str) -> str:
    """Each space-separated word in a no-wrap span: the line may break between words only."""
    return " ".join(f'<span class="w">{escape(word)}</span>' for word in text.split())
