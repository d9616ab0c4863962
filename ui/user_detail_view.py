"""The Users page's detail dialog: one user's lifetime figures, breakdowns, sessions and audit."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from telemetry import format as fmt
from telemetry import queries
from telemetry.charts.base import TRACE_COLOR
from telemetry.filters import Filters
from telemetry.queries import UserDetail
from telemetry.queries.user_history import AUDIT_LIMIT
from telemetry.timeutil import from_us
from ui import plain
from ui.cache import cached_query
from ui.users_view import DETAIL_KEY

_MONEY = st.column_config.NumberColumn("Cost (USD)", format="dollar")
_COUNT = {"format": "localized"}


def duration_text(milliseconds: float | None) -> str:
    """A trace duration for people: seconds up to two minutes, then minutes."""
    if milliseconds is None:
        return fmt.MISSING
    seconds = milliseconds / 1000
    if seconds < 120:
        return f"{seconds:,.1f} s"
    return f"{seconds / 60:,.1f} min"


def _forget_detail() -> None:
    st.session_state.pop(DETAIL_KEY, None)


@st.dialog("User detail", width="large", on_dismiss=_forget_detail)
def user_detail_dialog(filters: Filters, version: int, user_pk: int, show_audit: bool) -> None:
    """Draw the detail of ``user_pk`` (``show_audit``: the account may read audit events)."""
    detail = cached_query(queries.user_detail, filters, version, user_pk=user_pk)
    if detail is None:
        st.warning("This user is not in your teams or filters.", icon=":material/lock:")
        return
    _profile(detail)
    _lifetime_cards(detail)
    st.markdown(f"**Traces per day**, the 30 days up to {filters.end:%d %b %Y} (UTC)")
    st.altair_chart(_activity_chart(detail.activity), width="stretch")
    _breakdowns(detail)
    _sessions(filters, version, user_pk)
    _audit(filters, version, user_pk, show_audit)


def _profile(detail: UserDetail) -> None:
    profile = detail.profile
    st.subheader(plain.text(profile.name or profile.external_id))
    parts = [f"id {plain.code(profile.external_id)}"]
    parts += [plain.text(part) for part in (profile.email, profile.company, profile.team) if part]
    st.caption(" · ".join(parts) + f" · status **{plain.text(profile.status)}**")


def _lifetime_cards(detail: UserDetail) -> None:
    life = detail.lifetime
    priced = fmt.percent(life.priced_share, 0) if life.priced_share is not None else "no calls"
    errored = f"{life.errored_sessions:,} ({fmt.percent(life.errored_session_rate)})"
    cards = (
        ("Traces", fmt.count(life.traces)),
        ("Sessions", fmt.count(life.sessions)),
        ("Errored sessions", errored),
        (f"Cost · {priced} priced", fmt.dollars(life.cost_usd)),
        ("Tokens (input + output)", fmt.count(life.tokens)),
        ("Avg trace duration", duration_text(life.avg_duration_ms)),
        ("Active days", fmt.count(life.active_days)),
    )
    for row in (cards[:4], cards[4:]):
        for column, (label, value) in zip(st.columns(4), row, strict=False):
            column.metric(label, value, border=True)
    seen = ""
    if life.first_seen_us is not None:
        first, last = from_us(life.first_seen_us), from_us(life.last_seen_us)
        seen = f" First trace {first:%d %b %Y}, last {last:%d %b %Y} (UTC)."
    st.caption(f"All time, within the page's team and environment filters.{seen}")
    if life.priced_share is not None and life.priced_share < 1:
        st.caption("Some of this user's LLM calls have no price: the cost leaves them out.")


def _activity_chart(activity: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(activity)
        .mark_bar(color=TRACE_COLOR)
        .encode(
            x=alt.X("utcyearmonthdate(day):T", title=None),
            y=alt.Y("traces:Q", title="Traces"),
            tooltip=[
                alt.Tooltip("utcyearmonthdate(day):T", title="Day", format="%a %d %b %Y"),
                alt.Tooltip("traces:Q", title="Traces", format=","),
            ],
        )
        .properties(height=140)
    )


def _breakdowns(detail: UserDetail) -> None:
    models, providers, tools = st.tabs(["By model", "By provider", "By tool"])
    with models:
        _table(
            detail.by_model,
            {
                "provider": "Provider",
                "model": "Model",
                "calls": st.column_config.NumberColumn("Calls", **_COUNT),
                "input_tokens": st.column_config.NumberColumn("Input tokens", **_COUNT),
                "output_tokens": st.column_config.NumberColumn("Output tokens", **_COUNT),
                "cost_usd": _MONEY,
                "unpriced_calls": st.column_config.NumberColumn("Unpriced calls", **_COUNT),
            },
            "No LLM calls.",
        )
    with providers:
        _table(
            detail.by_provider,
            {
                "provider": "Provider",
                "calls": st.column_config.NumberColumn("Calls", **_COUNT),
                "tokens": st.column_config.NumberColumn("Tokens", **_COUNT),
                "cost_usd": _MONEY,
                "unpriced_calls": st.column_config.NumberColumn("Unpriced calls", **_COUNT),
            },
            "No LLM calls.",
        )
    with tools:
        _table(
            detail.by_tool,
            {
                "tool": "Tool",
                "calls": st.column_config.NumberColumn("Calls", **_COUNT),
                "errors": st.column_config.NumberColumn("Errors", **_COUNT),
                "error_rate": st.column_config.NumberColumn("Error rate", format="percent"),
            },
            "No tool calls.",
        )


def _table(frame: pd.DataFrame, columns: dict, empty: str) -> None:
    if frame.empty:
        st.caption(empty)
        return
    st.dataframe(frame, hide_index=True, width="stretch", column_config=columns)


def _sessions(filters: Filters, version: int, user_pk: int) -> None:
    st.markdown("**Sessions**")
    errored_only = st.toggle("Errored sessions only", key="user_detail_errored")
    sessions = cached_query(
        queries.user_sessions, filters, version, user_pk=user_pk, errored_only=errored_only
    )
    if sessions is None:
        return
    if sessions.rows.empty:
        st.caption("No errored sessions." if errored_only else "No sessions.")
    else:
        st.dataframe(
            sessions.rows,
            hide_index=True,
            width="stretch",
            column_config={
                "session": "Session",
                "started": st.column_config.DatetimeColumn("Started", format="D MMM YYYY, HH:mm"),
                "ended": st.column_config.DatetimeColumn("Ended", format="D MMM YYYY, HH:mm"),
                "traces": st.column_config.NumberColumn("Traces", **_COUNT),
                "errors": st.column_config.NumberColumn("Errored traces", **_COUNT),
                "duration_s": st.column_config.NumberColumn("Duration (s)", format="%.0f"),
                "tokens": st.column_config.NumberColumn("Tokens", **_COUNT),
                "cost_usd": _MONEY,
            },
        )
    notes = []
    if sessions.matched > len(sessions.rows):
        notes.append(f"Showing the latest {len(sessions.rows):,} of {sessions.matched:,}.")
    if sessions.traces_without_session:
        notes.append(f"{sessions.traces_without_session:,} trace(s) without a session.")
    if notes:
        st.caption(" ".join(notes))


def _audit(filters: Filters, version: int, user_pk: int, show_audit: bool) -> None:
    st.markdown("**Audit events**")
    if not show_audit:
        st.caption("Audit events are shown to admins only.")
        return
    events = cached_query(queries.user_audit_events, filters, version, user_pk=user_pk)
    if events is None or events.empty:
        st.caption("No audit events by or about this user.")
        return
    st.caption(
        "Events whose actor or target is this user's id or email, newest first "
        f"(at most {AUDIT_LIMIT})."
    )
    st.dataframe(
        events,
        hide_index=True,
        width="stretch",
        column_config={
            "time": st.column_config.DatetimeColumn("Time (UTC)", format="D MMM YYYY, HH:mm"),
            "actor": "Actor",
            "action": "Action",
            "target": "Target",
            "details": "Details",
        },
    )
