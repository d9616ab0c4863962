"""The detail of one step of a trace: generation or tool fields, error, attributes, content.

Content blocks are drawn only when the view fetched content (admins); others
get a one-line note instead, since the content was never read for them.
"""

from __future__ import annotations

import streamlit as st

from telemetry import format as fmt
from telemetry.queries.trace_detail import ObservationNode, TraceDetail
from telemetry.queries.trace_tree import duplicate_note
from ui import plain

CONTENT_NOTE = "Inputs and outputs (prompts, responses, tool arguments) are shown to admins only."
STEP_KEY = "trace_step"


def step_panel(detail: TraceDetail, include_content: bool) -> None:
    """A picker of the steps (the failing one first shown) and that step's fields."""
    nodes = detail.observations
    if not nodes:
        st.caption("No steps stored for this trace.")
        return
    failing = detail.failing_step
    default = (failing.step if failing else 1) - 1
    step = st.selectbox(
        "Step",
        [node.step for node in nodes],
        index=default,
        format_func=lambda number: _step_label(nodes[number - 1]),
        key=f"{STEP_KEY}_{detail.trace.trace_id}",
    )
    node = nodes[step - 1]
    if node.is_error:
        st.error(
            f"{plain.text(node.error_type or 'Error')}: {plain.text(node.error_text, lines=True)}",
            icon=":material/error:",
        )
    st.markdown(_timing(node))
    if node.is_duplicate:
        st.info(
            f"This step is a {plain.text(duplicate_note(node, nodes))}: the same LLM call "
            "reported twice (nested, same model, same input and output tokens), for example "
            "by an SDK that traces itself inside an instrumentation. Its tokens and cost count "
            'once, on the step it repeats (see docs/metrics.md, "Duplicate LLM calls").',
            icon=":material/content_copy:",
        )
    if node.is_llm_call or node.is_duplicate:
        _generation(node)
    elif node.is_tool:
        st.markdown(
            f"**Tool** {plain.code(node.tool_name or fmt.MISSING)} · "
            f"type {plain.text(node.tool_type or '–')}"
        )
    if node.attributes:
        with st.expander("Attributes"):
            st.json(node.attributes, expanded=False)
    if include_content:
        _content(node)
    else:
        st.caption(CONTENT_NOTE)


def _step_label(node: ObservationNode) -> str:
    flag = " · error" if node.is_error else (" · running" if node.running else "")
    if node.is_duplicate:
        flag += " · duplicate, not counted"
    return f"{node.step}. {node.name or node.kind} ({node.kind}){flag}"


def _timing(node: ObservationNode) -> str:
    duration = "still running" if node.duration_ms is None else f"{node.duration_ms:,.0f} ms"
    parts = [
        f"**{plain.text(node.kind)}**",
        f"status {node.status_text}",
        f"starts {node.offset_ms:,.0f} ms after the trace",
        f"duration {duration}",
        f"span {plain.code(node.span_id)}",
    ]
    if node.orphan:
        parts.append(f"parent {plain.code(node.parent_span_id)} not received")
    return " · ".join(parts)


def _generation(node: ObservationNode) -> None:
    cards = st.columns(4)
    cards[0].metric(
        "Model",
        plain.text(node.model or fmt.MISSING),
        help=f"provider {plain.text(node.provider or '–')}",
    )
    cards[1].metric(
        "Input tokens",
        fmt.count(node.input_tokens),
        help=f"{fmt.count(node.cache_read_tokens)} read from cache, "
        f"{fmt.count(node.cache_write_tokens)} written to cache (included in input)",
    )
    cards[2].metric(
        "Output tokens",
        fmt.count(node.output_tokens),
        help=f"{fmt.count(node.reasoning_tokens)} reasoning",
    )
    cards[3].metric(
        "Cost", fmt.dollars(node.cost_usd), help=f"cost source: {plain.text(node.cost_source)}"
    )
    st.markdown(
        f"Provider **{plain.text(node.provider or fmt.MISSING)}** · cached input "
        f"**{fmt.count(node.cache_read_tokens)}** · latency "
        f"**{'running' if node.duration_ms is None else f'{node.duration_ms:,.0f} ms'}** · "
        f"cost source **{plain.text(node.cost_source or fmt.MISSING)}**"
    )
    if node.request_parameters:
        st.markdown("**Request parameters**")
        st.json(node.request_parameters, expanded=True)


def _content(node: ObservationNode) -> None:
    if not node.input_content and not node.output_content:
        st.caption("No input or output content was sent for this step.")
        return
    if node.input_content:
        st.markdown("**Input**")
        st.code(node.input_content, language=None, wrap_lines=True)
    if node.output_content:
        st.markdown("**Output**")
        st.code(node.output_content, language=None, wrap_lines=True)
