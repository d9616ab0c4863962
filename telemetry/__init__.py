"""AI-agent telemetry: the store, ingestion, queries and reports behind the dashboard.

Nothing in this package imports Streamlit: pages, reports and the CLI all call
the same functions here, so the numbers they show cannot disagree.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    # ``telemetry.capture`` / ``telemetry.configure`` load the OpenTelemetry SDK only when
    # used, so the dashboard importing ``telemetry`` does not pay for it. They live in
    # ``telemetry.tracing``: a submodule named ``capture`` would shadow the function.
    if name in ("capture", "configure"):
        from telemetry import tracing

        return getattr(tracing, name)
    if name == "score":
        from telemetry.feedback import score

        return score
    raise AttributeError(f"module 'telemetry' has no attribute {name!r}")
