"""Dashboard blocks declared once (query, caption, columns, chart, limits), Streamlit-free:
drawn by the pages (ui/block_view.py) and by the PDF/HTML reports (telemetry/reports/items.py).

A new table block: a ``BlockSpec(key, title, "table", description, query=..., caption=...,
columns=(Column(field, title, format, key=True), ...))`` in a module here; the page calls
``block_view.table(spec, spec.build(block_view.page_source(filters, version)), filters)``.
Listing it in a module's ``BLOCKS`` (telemetry/blocks/catalog.py) makes it a report item.
"""
