"""Links from a notification or the history back into the dashboard, with the rule's filters.

The sidebar filters and the Traces page's search fields live in the URL (ui/filters.py,
ui/traces_list.py), so a link reproduces the view: the window's days as a custom
period, the scope's teams and environments, and its agent, model or user.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from telemetry.timeutil import day_of_number, day_of_us

CUSTOM_PERIOD = "Custom range"
_STATUS_OF_METRIC = {"error_rate": "error", "timeout_rate": "timeout"}


def view_url(
    base: str,
    page: str,
    *,
    org: str,
    start_us: int,
    end_us: int,
    teams: Sequence[str] | None = None,
    environments: Sequence[str] | None = None,
    **search: str | None,
) -> str:
    """``{base}/{page}?org=...&period=Custom+range&from=...&to=...`` plus the search fields."""
    first = day_of_number(day_of_us(start_us))
    last = day_of_number(day_of_us(max(end_us - 1, start_us)))
    params: dict[str, object] = {
        "org": org,
        "period": CUSTOM_PERIOD,
        "from": first.isoformat(),
        "to": last.isoformat(),
    }
    if teams:
        params["team"] = list(teams)
    if environments:
        params["env"] = list(environments)
    params.update({name: value for name, value in search.items() if value})
    return f"{base.rstrip('/')}/{page}?{urlencode(params, doseq=True)}"


def rule_traces_url(base: str, target, metric: str, start_us: int, end_us: int) -> str:
    """The runs behind a rule's value: the Traces page, filtered (failing runs for a rate)."""
    subject = target.subject
    return view_url(
        base,
        "traces",
        org=target.org,
        start_us=start_us,
        end_us=end_us,
        teams=target.teams,
        environments=target.environments,
        agent=subject.agent,
        model=subject.model,
        user=subject.user,
        status=_STATUS_OF_METRIC.get(metric),
    )
