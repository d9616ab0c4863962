"""AI-agent telemetry: the store, ingestion, queries and reports behind the dashboard.

Nothing in this package imports Streamlit: pages, reports and the CLI all call
the same functions here, so the numbers they show cannot disagree.
"""

__version__ = "0.1.0"
