"""The rule form of the Alerts page: every field of a rule, "Try on the last 30 days", "Save".

The form only collects text; :mod:`telemetry.alerts.rules` checks it all (and
the account's teams) before anything is saved, and its messages are shown here.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from sqlalchemy import Engine

from telemetry.accounts import Account
from telemetry.alerts import channels as channel_store
from telemetry.alerts.access import AccessDenied, allowed_teams, check_teams
from telemetry.alerts.backtest import replay
from telemetry.alerts.evaluate import groups_of
from telemetry.alerts.metrics import METRICS, RATIO, check_metric
from telemetry.alerts.rules import RuleError, RuleSpec, check_spec, number, save_rule
from telemetry.alerts.state import ABOVE, BELOW, NO_DATA_CHOICES
from telemetry.alerts.windows import WINDOW_LABELS, WINDOWS, parse_duration
from telemetry.charts.alerts import backtest_chart
from telemetry.queries.dimensions import org_values
from telemetry.store import org_id
from telemetry.timeutil import now_us
from ui import plain

NO_DATA_LABELS = {
    "keep": "keep the state",
    "ok": "count as OK",
    "no_data": "show NO DATA",
}
GROUP_LABELS = {"": "one alert for the whole scope", "team": "each team", "agent": "each agent"}
GROUP_LABELS["model"] = "each model"
ANY = ""


@dataclass(frozen=True)
class Choices:
    teams: list[str]
    agents: list[str]
    models: list[str]
    channels: dict[int, str]


def choices(engine: Engine, account: Account, org: str) -> Choices:
    with engine.connect() as conn:
        org_pk = org_id(conn, org)
        teams = org_values(conn, org_pk, "team")
        agents = org_values(conn, org_pk, "agent")
        models = org_values(conn, org_pk, "model")
    allowed = allowed_teams(account, org)
    if allowed is not None:
        teams = [team for team in teams if team in allowed]
    channels = {c.id: c.label for c in channel_store.list_channels(engine, org)}
    return Choices(teams, agents, models, channels)


def _text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def rule_form(
    engine: Engine,
    account: Account,
    org: str,
    *,
    key: str,
    rule_id: int | None = None,
    current: RuleSpec | None = None,
) -> None:
    """Draw the form; on "Try" show the replay, on "Save" save the rule (or say what is wrong)."""
    found = choices(engine, account, org)
    spec = current or RuleSpec(org=org, name="", metric="error_rate", window="1h", threshold=0.05)
    with st.form(key, border=True):
        left, middle, right = st.columns(3)
        name = left.text_input("Name", spec.name, key=f"{key}_name")
        offered = [*METRICS, *([spec.metric] if spec.metric not in METRICS else [])]
        metric = middle.selectbox(
            "Metric",
            offered,
            index=offered.index(spec.metric),
            format_func=lambda k: f"{check_metric(k).label} ({k})",
            key=f"{key}_metric",
            help="Rates are fractions: 0.05 = 5% (you may also type 5%).",
        )
        window = right.selectbox(
            "Window",
            list(WINDOWS),
            index=list(WINDOWS).index(spec.window),
            format_func=WINDOW_LABELS.get,
            key=f"{key}_window",
            help="The figure is computed over this window ending at each evaluation (every "
            "minute). Month to date starts on the 1st, 00:00 UTC.",
        )
        left, middle, right = st.columns(3)
        direction = left.radio(
            "Alert when the value is",
            [ABOVE, BELOW],
            index=[ABOVE, BELOW].index(spec.direction),
            horizontal=True,
            key=f"{key}_direction",
        )
        threshold = middle.text_input(
            "Alert threshold", _text(spec.threshold), key=f"{key}_threshold"
        )
        warn = right.text_input(
            "Warning threshold (optional)",
            _text(spec.warn_threshold),
            key=f"{key}_warn",
            help="Reached before the alert threshold: lower for 'above', higher for 'below'.",
        )
        left, middle, right = st.columns(3)
        teams = left.multiselect(
            "Teams",
            found.teams,
            default=[t for t in (spec.teams or ()) if t in found.teams],
            key=f"{key}_teams",
            help="Empty = every team (admins only; a manager picks their own teams).",
        )
        agent = middle.selectbox(
            "Agent",
            [ANY, *found.agents],
            index=_index([ANY, *found.agents], spec.agent),
            format_func=lambda a: a or "any agent",
            key=f"{key}_agent",
        )
        model = right.selectbox(
            "Model",
            [ANY, *found.models],
            index=_index([ANY, *found.models], spec.model),
            format_func=lambda m: m or "any model",
            key=f"{key}_model",
            help="A model scope reads that model's LLM calls: runs = calls, errors = failed calls.",
        )
        left, middle, right = st.columns(3)
        user = left.text_input("End user id (optional)", spec.user, key=f"{key}_user")
        group_by = middle.selectbox(
            "Alerts",
            list(GROUP_LABELS),
            index=list(GROUP_LABELS).index(spec.group_by),
            format_func=GROUP_LABELS.get,
            key=f"{key}_group",
        )
        environments = right.text_input(
            "Environments (comma-separated, optional)",
            ", ".join(spec.environments or ()),
            key=f"{key}_envs",
        )
        left, middle, right, far = st.columns(4)
        min_runs = left.number_input(
            "Minimum runs",
            min_value=0,
            value=spec.min_runs,
            step=1,
            key=f"{key}_min_runs",
            help="Below this many runs in the window the rule stays quiet (see 'No data').",
        )
        pending = middle.text_input(
            "Pending period",
            f"{spec.pending_s}s" if spec.pending_s else "0",
            key=f"{key}_pending",
            help="Fire only after the condition held this long, e.g. 5m.",
        )
        margin = right.text_input(
            "Recovery margin",
            _text(spec.recovery_margin),
            key=f"{key}_margin",
            help="Recover only once back past the threshold by this fraction of it (0.1 = 10%).",
        )
        no_data = far.selectbox(
            "No data / too few runs",
            list(NO_DATA_CHOICES),
            index=list(NO_DATA_CHOICES).index(spec.no_data),
            format_func=NO_DATA_LABELS.get,
            key=f"{key}_no_data",
        )
        channels = st.multiselect(
            "Channels",
            list(found.channels),
            default=[c for c in spec.channels if c in found.channels],
            format_func=found.channels.get,
            key=f"{key}_channels",
            help="Admins add channels in the Channels tab.",
        )
        try_it = st.form_submit_button("Try on the last 30 days", icon=":material/replay:")
        save = st.form_submit_button("Save rule", type="primary", icon=":material/save:")
    if not (try_it or save):
        return
    try:
        edited = RuleSpec(
            org=org,
            name=name,
            metric=metric,
            window=window,
            direction=direction,
            threshold=number(threshold, "alert threshold"),
            warn_threshold=number(warn, "warning threshold") if warn.strip() else None,
            teams=tuple(teams) or None,
            environments=tuple(e.strip() for e in environments.split(",") if e.strip()) or None,
            agent=agent,
            model=model,
            user=user.strip(),
            group_by=group_by,
            min_runs=int(min_runs),
            pending_s=parse_duration(pending, field="pending period"),
            recovery_margin=number(margin or "0", "recovery margin"),
            no_data=no_data,
            channels=tuple(channels),
            enabled=spec.enabled,
            muted_until_us=spec.muted_until_us,
        )
        if save:
            saved = save_rule(engine, account, edited, rule_id=rule_id)
            st.success(f"Saved rule {saved}: {plain.text(edited.name)}.", icon=":material/check:")
            st.rerun()
        show_backtest(engine, account, edited)
    except (RuleError, ValueError, AccessDenied, LookupError) as error:
        st.error(plain.text(error), icon=":material/error:")  # it may quote a name


def _index(options: list[str], value: str) -> int:
    return options.index(value) if value in options else 0


def show_backtest(engine: Engine, account: Account, spec: RuleSpec) -> None:
    """Replay the rule (checked first) and draw what it would have done."""
    with engine.connect() as conn:
        spec = check_spec(conn, spec)
    check_teams(account, spec.org, spec.teams, "alert rule")
    end = now_us()
    with st.spinner("Replaying the rule over the last 30 days..."):
        result = replay(engine, spec, end, groups_of(engine, spec, end))
    (st.warning if result.fired else st.info)(result.summary, icon=":material/replay:")
    st.caption(result.sampling)
    if result.groups_shown < result.groups_total:
        st.caption(f"Showing the first {result.groups_shown} of {result.groups_total} groups.")
    metric = check_metric(spec.metric)
    title = f"{metric.label} ({'fraction' if metric.unit == RATIO else metric.unit})"
    st.altair_chart(
        backtest_chart(result.series, spec.threshold, spec.warn_threshold, title), width="stretch"
    )
