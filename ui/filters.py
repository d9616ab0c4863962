"""The shared sidebar filters: organization, period, teams, environments, grouping -> one Filters.

Each widget is bound to a URL query parameter (``org``, ``period``, ``from``,
``to``, ``team``, ``env``, ``group``), so a copied link reproduces the view.
Access is enforced here, once: a manager's organization and team options,
whatever the URL asks for, and the resulting :class:`Filters` only ever hold
that manager's own teams (none at all for a manager without teams).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import streamlit as st

from telemetry import format as fmt
from telemetry import retention
from telemetry.accounts import Account
from telemetry.db import DEFAULT_ORG, database_url
from telemetry.demo import DEMO_ORG
from telemetry.filters import Filters
from telemetry.timeutil import day_of_number, day_of_us
from ui import cache, periods, plain
from ui.periods import CUSTOM, DEFAULT_PRESET, GROUPINGS, PRESETS

_VIEW_KEY = "_telemetry_view"
_LINK_READ_KEY = "_telemetry_link_read"
_LINK_NOTICES_KEY = "_telemetry_link_notices"
BOUND = "query-params"


@dataclass(frozen=True)
class View:
    """What every page draws: the filters, the data version they were read at, and notices."""

    filters: Filters
    data_version: int
    preset: str
    # The teams this account may see in the organization; None = every team (admin).
    allowed_teams: tuple[str, ...] | None
    notices: tuple[str, ...] = ()

    @property
    def is_demo(self) -> bool:
        return self.filters.org == DEMO_ORG


def current_view() -> View:
    """The :class:`View` app.py built for this session (pages call this).

    A page run without it (not logged in, or reached without app.py) stops
    here with a pointer to the login page: no query runs without filters.
    """
    view = st.session_state.get(_VIEW_KEY)
    if view is None:
        st.info("Log in to see the dashboard: [go to the login page](/).", icon=":material/lock:")
        st.stop()
    return view


def forget_view() -> None:
    """Drop the session's filters (on logout or whenever nobody is logged in)."""
    for key in (_VIEW_KEY, _LINK_READ_KEY, _LINK_NOTICES_KEY):
        st.session_state.pop(key, None)


def visible_orgs(account: Account, existing: list[str]) -> list[str]:
    """Organizations the account may pick: all for an admin, those with its teams for a manager."""
    if account.is_admin:
        return existing
    return [org for org in existing if org in account.orgs]


def default_org(orgs: list[str], version_of) -> str:
    """``default``, or ``demo`` when default has no traces yet (so a newcomer sees data)."""
    if DEFAULT_ORG in orgs:
        if DEMO_ORG in orgs and not cache.org_has_traces(
            database_url(), DEFAULT_ORG, version_of(DEFAULT_ORG)
        ):
            return DEMO_ORG
        return DEFAULT_ORG
    return orgs[0]


def team_scope(chosen: list[str], allowed: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The teams to filter on: the chosen ones, else every allowed team (None = no restriction)."""
    if chosen:
        return tuple(chosen) if allowed is None else tuple(t for t in chosen if t in allowed)
    return allowed


def sidebar_filters(account: Account) -> View:
    """Draw the filters in the sidebar and return (and remember for the pages) the View."""
    asked_org, asked_teams = _link_request()
    link_notices: list[str] = []
    notices: list[str] = []
    versions: dict[str, int] = {}

    def version_of(org: str) -> int:
        if org not in versions:
            versions[org] = cache.data_version(org)
        return versions[org]

    orgs = visible_orgs(account, cache.organization_slugs())
    with st.sidebar:
        st.subheader("Filters")
        org = _org_selector(orgs, version_of)
        if asked_org and org is not None and asked_org != org:
            link_notices.append(
                "The organization in the link does not exist or is not available to you; "
                f"showing {plain.text(org)}."
            )
        period, preset = _period_selector(notices)
        allowed = _allowed_teams(account, org)
        teams = _team_selector(org, allowed, version_of, asked_teams, link_notices)
        environments = _environment_selector(org, allowed, version_of)
        grouping = st.selectbox(
            "Grouping",
            GROUPINGS,
            key="group",
            bind=BOUND,
            help="Time buckets of the timelines (weeks start on Monday); automatic picks "
            "one from the period's length: 5 minutes up to 6 hours, hours up to 2 days, then "
            "days, weeks and months.",
        )
    if org is None:
        # A manager whose teams are in no existing organization sees nothing.
        notices.append(_no_team_notice(account))
        org, teams = DEFAULT_ORG, ()
    chosen_grouping = periods.resolve_grouping(grouping, period.length_us)
    grouping_notice = periods.grouping_notice(grouping, chosen_grouping)
    if grouping_notice:
        notices.append(grouping_notice)
    filters = replace(
        period,
        org=org,
        teams=teams,
        environments=tuple(environments) or None,
        grouping=chosen_grouping,
    )
    _purge_notice(filters, version_of)
    link_notices = _remembered_link_notices(org, teams, link_notices)
    view = View(filters, version_of(org), preset, allowed, (*link_notices, *notices))
    st.session_state[_VIEW_KEY] = view
    return view


def _purge_notice(filters: Filters, version_of) -> None:
    """Said under the filters on every page when the period reaches back past a purge."""
    horizons = cache.purged_horizons(database_url(), filters.org, version_of(filters.org))
    notice = retention.purge_notice(filters, horizons)
    if notice:
        st.sidebar.info(notice, icon=":material/auto_delete:")


def _link_request() -> tuple[str | None, list[str]]:
    """The organization and teams the page's URL asked for, on the session's first run only.

    Read before the bound widgets drop values they cannot show, so a refused
    request can be explained. Later runs change the URL through the widgets.
    """
    if st.session_state.get(_LINK_READ_KEY):
        return None, []
    st.session_state[_LINK_READ_KEY] = True
    return st.query_params.get("org"), st.query_params.get_all("team")


def _remembered_link_notices(
    org: str, teams: tuple[str, ...] | None, fresh: list[str]
) -> tuple[str, ...]:
    """What the link asked for and did not get: said until the person changes org or teams.

    The link is read on the session's first run only, and the next rerun comes
    at once (the login cookie is written), so the notices are kept in the session.
    """
    if fresh:
        st.session_state[_LINK_NOTICES_KEY] = (org, teams, tuple(fresh))
        return tuple(fresh)
    remembered = st.session_state.get(_LINK_NOTICES_KEY)
    if remembered and remembered[:2] == (org, teams):
        return remembered[2]
    st.session_state.pop(_LINK_NOTICES_KEY, None)
    return ()


def _org_selector(orgs: list[str], version_of) -> str | None:
    if not orgs:
        st.selectbox("Organization", ["(none)"], disabled=True)
        return None
    return st.selectbox(
        "Organization",
        orgs,
        index=orgs.index(default_org(orgs, version_of)),
        key="org",
        bind=BOUND,
        help="An admin sees every organization; a manager those where they have teams.",
    )


def _period_selector(notices: list[str]) -> tuple[Filters, str]:
    """The chosen period (as Filters of the default organization) and the preset's name."""
    now = periods.utc_now_us()
    preset = st.selectbox(
        "Period",
        PRESETS,
        index=PRESETS.index(DEFAULT_PRESET),
        key="period",
        bind=BOUND,
        help="Last hour and Last 24 hours end now; Today runs from 00:00 UTC to now; the "
        "others are whole UTC days, today included. Cards compare with the period just "
        "before: the same length, and for Today up to the same time of day.",
    )
    if preset == CUSTOM:
        today = day_of_number(day_of_us(now))
        # One under the other: side by side, the sidebar's half width clips the day.
        start = st.date_input("From", value=today - timedelta(days=29), key="from", bind=BOUND)
        end = st.date_input("To", value=today, key="to", bind=BOUND)
        if end < start:
            notices.append("The period ended before it started; the dates were swapped.")
            start, end = end, start
        period = Filters(start=start, end=end)
    else:
        period = periods.preset_filters(preset, now)
    st.caption(_period_caption(period))
    return period, preset


def _period_caption(period: Filters) -> str:
    """``01 Mar 2026 – 30 Mar 2026 · 30 days, UTC``, or a window's times and length."""
    if period.whole_days and not period.is_window:
        days = period.days
        return (
            f"{period.start:%d %b %Y} – {period.end:%d %b %Y} · {days} day{'s' * (days != 1)}, UTC"
        )
    return f"{fmt.day_span(period)}, UTC"


def _allowed_teams(account: Account, org: str | None) -> tuple[str, ...] | None:
    if account.is_admin:
        return None
    return account.teams_in(org) if org else ()


def _team_selector(
    org: str | None,
    allowed: tuple[str, ...] | None,
    version_of,
    asked: list[str],
    notices: list[str],
) -> tuple[str, ...] | None:
    if org is None:
        return ()
    if allowed is None:
        options = cache.team_names(database_url(), org, version_of(org))
        placeholder = "All teams"
    else:
        options = list(allowed)
        placeholder = "All your teams" if allowed else "No teams"
    chosen = st.multiselect(
        "Teams",
        options,
        key="team",
        bind=BOUND,
        placeholder=placeholder,
        disabled=not options,
        help="Empty = every team you may see.",
    )
    unknown = [name for name in asked if name not in options]
    if unknown and allowed is not None:
        shown = ", ".join(allowed) or "none"
        notices.append(
            f"The link asked for teams outside your access; showing your teams: "
            f"{plain.text(shown)}."
        )
    elif unknown:
        notices.append(
            f"Some teams in the link do not exist in {plain.text(org)}; they were left out."
        )
    return team_scope(chosen, allowed)


def _environment_selector(org: str | None, allowed: tuple[str, ...] | None, version_of) -> list:
    options = cache.environment_names(database_url(), org, allowed, version_of(org)) if org else []
    return st.multiselect(
        "Environments",
        options,
        key="env",
        bind=BOUND,
        placeholder="All environments",
        disabled=not options,
        help="deployment.environment of the traces (production, staging, ...).",
    )


def _no_team_notice(account: Account) -> str:
    return (
        "Your account has no teams yet, so there is nothing to show. Ask an admin to give you "
        f"teams: python -m telemetry users remove {account.username} && "
        f"python -m telemetry users add {account.username} --role manager --team NAME"
    )


def how_to_use() -> None:
    """A short guide at the bottom of the sidebar: what the filters do, where numbers come from."""
    with st.sidebar.expander("How to use", icon=":material/help:"):
        st.markdown(
            "- **Filters** apply to every page and live in the address bar: copy the link "
            "to share exactly this view.\n"
            "- **Periods**: *Last hour* and *Last 24 hours* end now, *Today* runs from "
            "00:00 UTC to now; the others are whole UTC days, today included (*Last 7 days* "
            "is today and the six days before). Each card compares with the period just "
            "before (*Today* up to the same time of day) and reads *new* when that period "
            "holds no data.\n"
            "- **Teams** and **Environments** left empty mean all of them "
            "(a manager only ever sees their own teams).\n"
            "- **Grouping** sets the timeline buckets; *Automatic* uses hours for a day or "
            "two, days up to three months, then weeks and months.\n"
            "- **Numbers** follow the definitions in `docs/metrics.md` (each card's help "
            "says its formula with the numbers behind it); the span attributes they are "
            "read from are listed in `docs/ingest.md`; "
            "`python -m telemetry metrics --org ORG --from DATE --to DATE` (or `--last 1h`) "
            "prints the same figures for the same filters.\n"
            "- **Drill down**: *Traces* lists the runs behind a number (links on the other "
            "pages open it pre-filtered) and opens one run step by step; *Sessions* groups "
            "them by conversation; *Live runs* follows the runs still in progress.\n"
            "- **Quality**: rate a run at the bottom of its trace page (G good, B bad, labels, "
            "a comment); *Review* queues the runs to look at (negative feedback, failures, a "
            "sample; N / P to move). Apps send user feedback to `POST /api/scores`; the "
            "*Quality* tab of Analytics shows coverage, positive rate and cost per good run.\n"
            "- **Alerts**: rules on error rate, latency, runs or cost notify e-mail, Slack or "
            "a webhook when their state changes; budgets show spent, forecast and run-out "
            "date. Try a rule on the last 30 days before saving it.\n"
            "- **Reports**: pick items, then generate a PDF or HTML file; "
            "`python -m telemetry report --help` makes the same report from cron.\n"
            "- **Export** writes the period's sessions, traces, LLM calls and tool runs as "
            "CSV or JSON files with a manifest; every table also downloads as CSV or JSON.\n"
            "- **Retention**: when an admin limits how long records are kept, a note under "
            "these filters says from which day the detail is gone (totals stay)."
        )
