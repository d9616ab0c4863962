"""Dashboard blocks declared once (query, caption, columns, chart, limits), Streamlit-free:
drawn by the pages (ui/block_view.py) and by the PDF/HTML reports (telemetry/reports/items.py)."""
