"""The waterfall of a trace: one bar per observation on a shared time axis, in tree order."""

from __future__ import annotations

import altair as alt
import pandas as pd

from telemetry.models import ObservationKind
from telemetry.queries.trace_detail import ObservationNode, TraceDetail
from telemetry.timeutil import now_us as current_us

ERROR_COLOR = "#dc2626"
KIND_COLORS = {
    ObservationKind.AGENT: "#2563eb",
    ObservationKind.GENERATION: "#7c3aed",
    ObservationKind.EMBEDDING: "#a855f7",
    ObservationKind.TOOL: "#059669",
    ObservationKind.RETRIEVER: "#0891b2",
    ObservationKind.SPAN: "#64748b",
    ObservationKind.EVENT: "#f59e0b",
    ObservationKind.DUPLICATE: "#c4b5fd",  # a pale generation: shown, not counted
}
ERROR_KEY = "error"
_INDENT = "\u2003"  # an em space: kept by the axis, where plain spaces would be trimmed
_LABEL_MAX_PX = 320
_ROW_PX = 28
# A bar per step stops being readable long before a trace's 5,000-step cap.
WATERFALL_MAX_ROWS = 300
_MIN_HEIGHT = 140
WATERFALL_COLUMNS = (
    "step",
    "label",
    "name",
    "kind",
    "colour",
    "status",
    "state",
    "start_ms",
    "end_ms",
    "duration",
    "detail",
    "message",
)


def row_label(node: ObservationNode) -> str:
    """``"3. ␣␣name"``: the step number keeps labels unique, the indent shows the depth."""
    return f"{node.step}. {_INDENT * node.depth}{node.name or node.kind}"


def waterfall_frame(detail: TraceDetail, *, now_us: int | None = None) -> pd.DataFrame:
    """One row per observation (the first :data:`WATERFALL_MAX_ROWS` in tree order):
    offsets from the trace's start in milliseconds.

    A span not ended yet runs to ``now_us`` while the trace runs, else to the
    trace's end (its root finished without it); its ``state`` is ``running``.
    """
    trace = detail.trace
    if trace.running or trace.end_us is None:
        open_end_us = current_us() if now_us is None else now_us
    else:
        open_end_us = trace.end_us
    rows = []
    for node in detail.observations[:WATERFALL_MAX_ROWS]:
        end_us = node.end_us if node.end_us is not None else max(open_end_us, node.start_us)
        rows.append(
            {
                "step": node.step,
                "label": row_label(node),
                "name": node.name,
                "kind": node.kind,
                "colour": ERROR_KEY if node.is_error else node.kind,
                "status": node.status_text,
                "state": "running" if node.running else "ended",
                "start_ms": node.offset_ms,
                "end_ms": (end_us - trace.start_us) / 1000,
                "duration": _duration_text(node),
                "detail": _detail_text(node),
                "message": node.error_text if node.is_error else "",
            }
        )
    return pd.DataFrame(rows, columns=list(WATERFALL_COLUMNS))


def waterfall_chart(detail: TraceDetail, *, now_us: int | None = None) -> alt.Chart:
    """Bars from each span's start to its end, coloured by kind, errors in red,
    running spans faded with a dashed outline."""
    frame = waterfall_frame(detail, now_us=now_us)
    # The legend lists only the kinds present; each keeps its colour on every trace.
    present = set(frame["colour"])
    shown = {str(kind): colour for kind, colour in KIND_COLORS.items() if kind in present}
    shown |= {key: "#94a3b8" for key in sorted(present) if key not in shown and key != ERROR_KEY}
    if ERROR_KEY in present:
        shown[ERROR_KEY] = ERROR_COLOR
    running = alt.datum.state == "running"
    longest = int(frame["label"].str.len().max()) if len(frame) else 10
    width = min(_LABEL_MAX_PX, 7 * longest + 16)
    return (
        alt.Chart(frame)
        .mark_bar(height={"band": 0.7}, strokeWidth=1.5, cornerRadius=2)
        .encode(
            x=alt.X("start_ms:Q", title="Milliseconds after the trace started"),
            x2="end_ms:Q",
            y=alt.Y(
                "label:N",
                sort=frame["label"].tolist(),
                title=None,
                # Left-aligned labels, so the indentation of nested steps shows.
                axis=alt.Axis(
                    labelAlign="left",
                    labelPadding=width,
                    labelLimit=width - 8,
                    labelOverlap=False,
                ),
            ),
            color=alt.Color(
                "colour:N",
                title="Kind",
                scale=alt.Scale(domain=list(shown), range=list(shown.values())),
            ),
            opacity=alt.when(running).then(alt.value(0.45)).otherwise(alt.value(0.9)),
            stroke=alt.when(running).then(alt.value("#111827")).otherwise(alt.value(None)),
            strokeDash=alt.when(running).then(alt.value([4, 3])).otherwise(alt.value([1, 0])),
            tooltip=[
                alt.Tooltip("name:N", title="Name"),
                alt.Tooltip("kind:N", title="Kind"),
                alt.Tooltip("duration:N", title="Duration"),
                alt.Tooltip("status:N", title="Status"),
                alt.Tooltip("detail:N", title="Model / tool"),
                alt.Tooltip("message:N", title="Error"),
            ],
        )
        .properties(height=max(_MIN_HEIGHT, _ROW_PX * len(frame) + 40))
    )


def _duration_text(node: ObservationNode) -> str:
    if node.duration_ms is None:
        return "running"
    if node.duration_ms < 1000:
        return f"{node.duration_ms:,.0f} ms"
    return f"{node.duration_ms / 1000:,.2f} s"


def _detail_text(node: ObservationNode) -> str:
    if node.is_llm_call:
        return " / ".join(part for part in (node.provider, node.model) if part)
    if node.is_tool:
        return node.tool_name
    return ""
