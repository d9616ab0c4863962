"""The Billing page (docs/metrics.md, "Cost"): period cost, the billing month and forecast.

Costs sum LLM calls (generations and embeddings) by each call's own start,
under the team and environment filters (:mod:`telemetry.queries.scope`). The
billing month is a calendar month (UTC) chosen apart from the period: the same
organization, teams and environments, but its own days. "Today" is always a
parameter, so the month in progress and its forecast can be tested on a known month.
Sums are read from the daily rollups (:mod:`telemetry.rollups`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import partial

import pandas as pd
from sqlalchemy import Connection, Engine, func, select

from telemetry.filters import Filters
from telemetry.models import CostSource, LlmDaily, Observation, Team, User
from telemetry.queries.activity import trace_count_in
from telemetry.queries.buckets import bucket_start
from telemetry.queries.costs import cost_by_model_in, usage_totals_in
from telemetry.queries.daily import total, total_cost, total_if
from telemetry.queries.observations import observation_bucket
from telemetry.queries.rollup_scope import daily_grouping, rollup_rows, rollup_where
from telemetry.queries.scope import (
    Scope,
    Subject,
    cost_key,
    llm_call_where,
    ratio,
    resolve_scope,
)
from telemetry.queries.users import scoped_team_name
from telemetry.timeutil import day_of_number, days_in_month, month_number, month_start

NO_USER = "(no user)"
NO_MODEL = "(no model)"
OTHER_MODELS = "(other models)"
USER_COST_LIMIT = 1_000
# The average length of a month in days (365.25 / 12): a "month" of the average monthly cost.
DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True)
class BillingPeriod:
    """Cost figures of the sidebar period.

    ``cost_usd`` = total cost of the period's LLM calls; ``days`` = the period's
    length in days (fractional for a window: the last hour is 1/24);
    ``average_monthly_cost_usd`` = cost ÷ (days ÷ :data:`DAYS_PER_MONTH`), the
    cost of an average month (30.4375 days) at the period's rate, so it does not
    jump when a period crosses a calendar boundary; ``traces`` = traces started
    in the period; ``active_models`` = distinct
    (provider, model) pairs with at least one call; ``priced_share`` = calls with
    a cost source other than ``unpriced`` ÷ calls (``None`` without calls).
    """

    cost_usd: float
    days: float
    average_monthly_cost_usd: float
    traces: int
    active_models: int
    calls: int
    priced_calls: int
    priced_share: float | None


def billing_period(engine: Engine, filters: Filters) -> BillingPeriod:
    """The :class:`BillingPeriod` of ``filters``."""
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        usage = usage_totals_in(conn, scope)
        traces = trace_count_in(conn, scope)
        calls = rollup_rows(scope, LlmDaily)
        models = select(calls.provider, calls.model).where(rollup_where(scope, calls))
        active_models = conn.execute(
            select(func.count()).select_from(models.distinct().subquery("models"))
        ).scalar_one()
    return BillingPeriod(
        cost_usd=usage.cost_usd,
        days=filters.length_days,
        average_monthly_cost_usd=average_monthly_cost(usage.cost_usd, filters.length_days),
        traces=traces,
        active_models=int(active_models),
        calls=usage.generations,
        priced_calls=usage.priced_generations,
        priced_share=usage.priced_share,
    )


def average_monthly_cost(cost_usd: float, days: float) -> float:
    """``cost_usd`` spent over ``days`` days, carried over an average month of 30.4375 days."""
    return cost_usd / (days / DAYS_PER_MONTH)


@dataclass(frozen=True)
class BillingMonth:
    """The cost of one calendar month (UTC), and for the month in progress its forecast.

    ``month`` is the month number (year × 12 + month − 1). For a past month,
    ``cost_usd`` is the whole month's cost and ``forecast_usd`` is ``None``. For
    the month in progress (the one holding ``today``), ``cost_usd`` is the
    month-to-date cost: calls from the 1st through ``today``, today included;
    ``elapsed_days`` = today's day of the month (so on the 1st it is 1), and
    ``forecast_usd`` = month-to-date ÷ ``elapsed_days`` × ``days_in_month``: the
    daily average so far, carried over the whole month. A month after today
    has nothing yet (``cost_usd`` 0, ``elapsed_days`` 0, no forecast).
    """

    month: int
    first_day: date
    last_day: date
    in_progress: bool
    days_in_month: int
    elapsed_days: int
    cost_usd: float
    calls: int
    priced_calls: int
    priced_share: float | None
    forecast_usd: float | None


def billing_month(
    engine: Engine,
    filters: Filters,
    *,
    month: int,
    today: date,
    subject: Subject | None = None,
    until_us: int | None = None,
) -> BillingMonth:
    """The :class:`BillingMonth` ``month`` of ``filters``' organization, teams and environments.

    ``subject`` narrows it to one agent, model or user (budgets and alert rules do).
    ``until_us`` (an instant of ``today``) ends the month in progress there instead of
    at the end of today: an alert evaluated as of an earlier time reads what was known.
    """
    first = month_start(month)
    length = days_in_month(first.year, first.month)
    last = first.replace(day=length)
    current = month_number(today)
    if month > current:
        elapsed = 0
    elif month == current:
        elapsed = today.day
    else:
        elapsed = length
    if elapsed == 0:
        return BillingMonth(month, first, last, False, length, 0, 0.0, 0, 0, None, None)
    with engine.connect() as conn:
        period = filters.with_period(first, first.replace(day=elapsed))
        if until_us is not None and month == current:
            rest = {
                "org": filters.org,
                "teams": filters.teams,
                "environments": filters.environments,
            }
            period = Filters.up_to(first, until_us, **rest)
        usage = usage_totals_in(conn, resolve_scope(conn, period, subject))
    in_progress = month == current
    forecast = usage.cost_usd / elapsed * length if in_progress else None
    return BillingMonth(
        month=month,
        first_day=first,
        last_day=last,
        in_progress=in_progress,
        days_in_month=length,
        elapsed_days=elapsed,
        cost_usd=usage.cost_usd,
        calls=usage.generations,
        priced_calls=usage.priced_generations,
        priced_share=usage.priced_share,
        forecast_usd=forecast,
    )


def run_out_day(month: BillingMonth, budget_usd: float) -> date | None:
    """The day the month's spending reaches ``budget_usd`` at its daily rate so far.

    docs/metrics.md: at month-to-date cost ÷ elapsed days per day, the budget is
    reached on day ``ceil(budget ÷ rate)`` of the month; ``None`` when that falls
    after the month's last day, when nothing was spent, or for a month not in
    progress. A budget already spent gives a day on or before today.
    """
    if not month.in_progress or month.cost_usd <= 0 or month.elapsed_days <= 0:
        return None
    rate = month.cost_usd / month.elapsed_days
    day = max(1, math.ceil(round(budget_usd / rate, 9)))
    return month.first_day.replace(day=day) if day <= month.days_in_month else None


def billing_months(engine: Engine, filters: Filters, *, today: date) -> list[int]:
    """Months (numbers) with at least one LLM call in the scope, plus today's; newest first.

    The period of ``filters`` does not apply (any month may be billed); its
    organization, teams and environments do. One cheap probe per month between
    the organization's first and last call, each stopping at its first row.
    """
    current = month_number(today)
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        bounds = [
            conn.execute(
                select(aggregate(Observation.start_day)).where(Observation.org_id == scope.org_id)
            ).scalar()
            for aggregate in (func.min, func.max)
        ]
        if bounds[0] is None:
            return [current]
        first = month_number(day_of_number(int(bounds[0])))
        last = month_number(day_of_number(int(bounds[1])))
        found = {month for month in range(first, last + 1) if _has_calls(conn, scope, month)}
    return sorted(found | {current}, reverse=True)


def _has_calls(conn: Connection, scope: Scope, month: int) -> bool:
    first = month_start(month)
    last = first.replace(day=days_in_month(first.year, first.month))
    probe = Scope(
        filters=scope.filters.with_period(first, last),
        org_id=scope.org_id,
        team_ids=scope.team_ids,
        environments=scope.environments,
    )
    return (
        conn.execute(select(Observation.id).where(llm_call_where(probe)).limit(1)).first()
        is not None
    )


@dataclass(frozen=True)
class UserCosts:
    """Cost per user of the period's LLM calls, costliest first, at most ``limit`` of ``matched``.

    ``rows``: ``DataFrame[user, name, email, team, calls, unpriced_calls,
    priced_share, input_tokens, output_tokens, cost_usd]``; ``user`` is the
    external id, or ``"(no user)"`` for calls that carry none (a row of its own,
    so the rows add up to the period's total). ``team`` is the user's team when
    it is in the scope.
    """

    rows: pd.DataFrame
    matched: int
    limit: int

    @property
    def complete(self) -> bool:
        return len(self.rows) >= self.matched


USER_COST_COLUMNS = [
    "user",
    "name",
    "email",
    "team",
    "calls",
    "unpriced_calls",
    "priced_share",
    "input_tokens",
    "output_tokens",
    "cost_usd",
]


def cost_by_user(engine: Engine, filters: Filters, *, limit: int = USER_COST_LIMIT) -> UserCosts:
    """The :class:`UserCosts` of ``filters`` (sorted and capped in SQL)."""
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        calls = rollup_rows(scope, LlmDaily)
        unpriced = calls.cost_source == str(CostSource.UNPRICED)
        per_user = (
            select(
                calls.user_id.label("user_pk"),
                total(calls.calls).label("calls"),
                total_if(unpriced, calls.calls).label("unpriced"),
                total(calls.input_tokens).label("input_tokens"),
                total(calls.output_tokens).label("output_tokens"),
                total_cost(calls.cost_usd).label("cost"),
            )
            .where(rollup_where(scope, calls))
            .group_by(calls.user_id)
            .subquery("per_user")
        )
        rows = conn.execute(
            select(
                per_user,
                User.external_id,
                User.name,
                User.email,
                scoped_team_name(scope).label("team"),
                func.count().over().label("matched"),  # before LIMIT: one pass, not two
            )
            .select_from(per_user)
            .outerjoin(User, User.id == per_user.c.user_pk)
            .outerjoin(Team, Team.id == User.team_id)
            .order_by(per_user.c.cost.desc(), per_user.c.calls.desc(), User.external_id)
            .limit(max(limit, 0))
        ).all()
        if rows or limit > 0:
            matched = int(rows[0].matched) if rows else 0
        else:
            matched = conn.execute(select(func.count()).select_from(per_user)).scalar_one()
    return UserCosts(rows=_user_cost_frame(rows), matched=int(matched), limit=limit)


def _user_cost_frame(rows: list) -> pd.DataFrame:
    records = []
    for row in rows:
        calls, unpriced = int(row.calls), int(row.unpriced)
        records.append(
            (
                NO_USER if row.user_pk is None else row.external_id,
                "" if row.user_pk is None else row.name,
                "" if row.user_pk is None else row.email,
                row.team or "",
                calls,
                unpriced,
                ratio(calls - unpriced, calls),
                int(row.input_tokens),
                int(row.output_tokens),
                float(row.cost),
            )
        )
    return pd.DataFrame(records, columns=USER_COST_COLUMNS)


def cost_per_day_by_model(engine: Engine, filters: Filters, *, top: int = 8) -> pd.DataFrame:
    """Cost per UTC day and model: ``DataFrame[day, model, cost_usd]``, oldest day first.

    When the period is grouped finer than a day (the last hour by 5 minutes, the
    last 24 hours by hour), ``day`` is the start of each such bucket instead, read
    from the LLM calls themselves. The ``top`` costliest models of the period keep
    their name; the others are summed as ``"(other models)"``. Buckets without
    calls are left out. Models are named without their provider (a model name
    rarely repeats across providers).
    """
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        if daily_grouping(scope):
            calls = rollup_rows(scope, LlmDaily)
            query = select(calls.day, calls.model, total_cost(calls.cost_usd)).where(
                rollup_where(scope, calls)
            )
            bucket_of = day_of_number
        else:
            bucket = observation_bucket(filters.grouping).label("bucket")
            query = select(bucket, Observation.model, total_cost(Observation.cost_usd)).where(
                llm_call_where(scope)
            )
            bucket_of = partial(bucket_start, filters.grouping)
        rows = conn.execute(query.group_by(*query.selected_columns[:2])).all()
    totals: dict[str, float] = {}
    for _, model, cost in rows:
        totals[model or NO_MODEL] = totals.get(model or NO_MODEL, 0.0) + float(cost)
    ranked = sorted(totals, key=lambda name: (-cost_key(totals[name]), name))
    kept = set(ranked[: max(top, 0)])
    cells: dict[tuple[int, str], float] = {}
    for number, model, cost in rows:
        name = model or NO_MODEL
        key = (int(number), name if name in kept else OTHER_MODELS)
        cells[key] = cells.get(key, 0.0) + float(cost)
    order = {name: index for index, name in enumerate([*ranked[: max(top, 0)], OTHER_MODELS])}
    records = [
        (pd.Timestamp(bucket_of(number)), name, cost)
        for (number, name), cost in sorted(cells.items(), key=lambda c: (c[0][0], order[c[0][1]]))
    ]
    return pd.DataFrame(records, columns=["day", "model", "cost_usd"])


def daily_cost(engine: Engine, filters: Filters, subject: Subject | None = None) -> pd.DataFrame:
    """Cost per UTC day of the period: ``DataFrame[day, cost_usd]``, every day, oldest first.

    The same LLM calls as :func:`billing_period`'s total (narrowed to ``subject``
    when given), so the days add up to it; days without calls are 0.
    """
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters, subject)
        calls = rollup_rows(scope, LlmDaily)
        found = dict(
            conn.execute(
                select(calls.day, total_cost(calls.cost_usd))
                .where(rollup_where(scope, calls))
                .group_by(calls.day)
            ).all()
        )
    days = range(filters.start_day, filters.end_day + 1)
    return pd.DataFrame(
        {
            "day": [pd.Timestamp(day_of_number(day)) for day in days],
            "cost_usd": [float(found.get(day, 0.0)) for day in days],
        }
    )


def unpriced_models(engine: Engine, filters: Filters) -> pd.DataFrame:
    """Models with unpriced calls in the period: see :func:`unpriced_of`."""
    with engine.connect() as conn:
        return unpriced_of(cost_by_model_in(conn, resolve_scope(conn, filters)))


def unpriced_of(models: pd.DataFrame) -> pd.DataFrame:
    """The models of a :func:`~telemetry.queries.cost_by_model` frame that have unpriced calls.

    ``DataFrame[provider, model, unpriced_calls, calls]``, most unpriced calls
    first, then provider and model. A page that already holds the per-model
    frame uses this instead of scanning the period's calls a second time.
    """
    columns = ["provider", "model", "unpriced_calls", "calls"]
    found = models.loc[models["unpriced_calls"] > 0, columns]
    return found.sort_values(
        ["unpriced_calls", "provider", "model"], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
