"""LLM calls of a scope taken together: how many, how many failed, and how long they took.

The per-model table of Analytics (:func:`~telemetry.queries.runs.model_runs`)
splits the same figures by provider and model; alert rules read them for a
whole scope (a team, an agent, one model, one user). Definitions:

- ``calls`` = LLM calls (generations and embeddings) started in the period, by
  their own start; ``errors`` = those with span status ERROR; ``error_rate`` =
  errors ÷ calls (``None`` without calls).
- latency = a call's duration (end − start) over the calls that ended:
  ``latency_avg_ms`` the mean, ``latency_p95_ms`` the 95th percentile
  (:mod:`telemetry.queries.percentiles`), both ``None`` when no call ended.

Counts and the mean come from ``llm_daily`` (and base rows for partial days); the
percentile needs every duration and reads the LLM-call latency index.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select

from telemetry.filters import Filters
from telemetry.models import LlmDaily
from telemetry.queries.daily import total, total_duration
from telemetry.queries.observations import observation_duration_us
from telemetry.queries.percentiles import P95, grouped_percentiles
from telemetry.queries.rollup_scope import rollup_rows, rollup_where
from telemetry.queries.scope import Scope, Subject, llm_call_where, ratio, resolve_scope

US_PER_MS = 1000


@dataclass(frozen=True)
class LlmCallTotals:
    """The LLM calls of a scope: see the module doc for each figure."""

    calls: int
    errors: int
    error_rate: float | None
    timed_calls: int
    latency_avg_ms: float | None
    latency_p95_ms: float | None


def llm_call_totals(
    engine: Engine, filters: Filters, subject: Subject | None = None, *, percentile: bool = True
) -> LlmCallTotals:
    """The :class:`LlmCallTotals` of ``filters`` (narrowed to ``subject`` when given)."""
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters, subject)
        return llm_call_totals_in(conn, scope, percentile=percentile)


def llm_call_totals_in(conn: Connection, scope: Scope, *, percentile: bool = True) -> LlmCallTotals:
    """As :func:`llm_call_totals`; ``percentile=False`` skips the p95 (it reads every call)."""
    rows = rollup_rows(scope, LlmDaily)
    calls, errors, timed, total_us = (
        int(value)
        for value in conn.execute(
            select(
                total(rows.calls),
                total(rows.errors),
                total(rows.timed_calls),
                total_duration(rows.duration_us_sum),
            ).where(rollup_where(scope, rows))
        ).one()
    )
    p95 = None
    if percentile and timed:
        durations = select(observation_duration_us().label("us")).where(llm_call_where(scope))
        p95 = grouped_percentiles(conn, durations, 0, (P95,)).get((), {}).get(P95)
    return LlmCallTotals(
        calls=calls,
        errors=errors,
        error_rate=ratio(errors, calls),
        timed_calls=timed,
        latency_avg_ms=total_us / timed / US_PER_MS if timed else None,
        latency_p95_ms=None if p95 is None else p95 / US_PER_MS,
    )
