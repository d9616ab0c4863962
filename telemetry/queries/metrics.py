"""The headline numbers as one plain dict: the public ``metrics --json`` contract.

Key order is fixed (the order of :data:`HEADLINE_KEYS`), lists are sorted by
defined keys with ties broken by name, and costs are rounded to 6 decimals, so
two stores holding the same data print byte-identical JSON.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import Engine

from telemetry.filters import Filters
from telemetry.queries.activity import run_totals_in
from telemetry.queries.adoption import adoption_in
from telemetry.queries.costs import by_team_in, cost_by_model_in, usage_totals_in
from telemetry.queries.quality import quality_totals_in, score_summary_in
from telemetry.queries.scope import resolve_scope
from telemetry.timeutil import rfc3339

COST_DECIMALS = 6

# Every top-level key, in output order, with its meaning (docs/metrics.md); the CLI's
# --help prints this list, so the contract is documented where it is produced.
HEADLINE_KEYS: dict[str, str] = {
    "filters": "echo of the request: org, from, to, days, teams, environments (null = all); "
    "for a window (--last) from/to are UTC instants [from, to) and days its length",
    "users_total": "directory users of the selected teams existing on the last day, not removed",
    "users_active": "distinct users with at least one trace in the period",
    "users_new": "active users whose first trace ever falls in the period",
    "users_inactive": "users_total minus those of them with a trace in the period",
    "activation_rate": "users_total with a first trace by the last day / users_total",
    "active_modules": "distinct modules (service.name) with a trace in the period",
    "traces": "traces (runs) started in the period",
    "sessions": "distinct session ids among those traces",
    "traces_without_session": "traces with no session id",
    "finished": "traces not running",
    "ok": "traces with status ok",
    "errors": "traces with status error",
    "timeouts": "traces with status timeout",
    "running": "traces still running (root span not ended)",
    "completion_rate": "ok / finished",
    "error_rate": "errors / finished",
    "timeout_rate": "timeouts / finished",
    "generations": "LLM calls (generations, embeddings) started in the period",
    "priced_generations": "LLM calls with a cost source other than unpriced",
    "input_tokens": "input tokens of those calls, cached ones included",
    "output_tokens": "output tokens",
    "cache_read_tokens": "input tokens read from a cache (part of input_tokens)",
    "cache_write_tokens": "input tokens written to a cache (part of input_tokens)",
    "reasoning_tokens": "reasoning tokens (reported apart by some models)",
    "cost_usd": "total cost of those calls in USD, 6 decimals",
    "priced_share": "priced_generations / generations",
    "by_model": "per provider+model: calls, tokens, cost_usd, unpriced_calls; by cost desc",
    "by_team": "per team: users_active, traces, cost_usd; by cost desc; '(no team)' if any",
    "feedback_coverage": "traces with at least one verdict (user_feedback, review) / traces",
    "positive_rate": "traces whose latest verdict is positive / traces with a verdict",
    "cost_per_good_run": "cost_usd / traces whose latest verdict is positive; null when none",
    "by_score": "per score name: name, count, mean (of numeric values, null if none), "
    "labels {label: count}; scores of the period's traces, by name",
}


def _money(value: float) -> float:
    return round(float(value), COST_DECIMALS) + 0.0  # + 0.0 turns -0.0 into 0.0


def _filters_echo(filters: Filters) -> dict[str, Any]:
    days = not filters.is_window and filters.whole_days
    return {
        "org": filters.org,
        "from": filters.start.isoformat() if days else rfc3339(filters.start_us),
        "to": filters.end.isoformat() if days else rfc3339(filters.end_us),
        "days": filters.days if days else round(filters.length_days, 6),
        "teams": None if filters.teams is None else list(filters.teams),
        "environments": None if filters.environments is None else list(filters.environments),
    }


def headline_metrics(engine: Engine, filters: Filters) -> dict[str, Any]:
    """The ``metrics --json`` object for ``filters`` (keys and meanings: :data:`HEADLINE_KEYS`).

    Rates are ``None`` (JSON null) when their denominator is 0. Raises
    :class:`telemetry.store.UnknownOrganization` for an organization that does
    not exist.
    """
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        users = adoption_in(conn, scope)
        runs = run_totals_in(conn, scope)
        usage = usage_totals_in(conn, scope)
        models = cost_by_model_in(conn, scope)
        teams = by_team_in(conn, scope)
        quality = quality_totals_in(conn, scope)
        scores = score_summary_in(conn, scope)
    values: dict[str, Any] = {
        "filters": _filters_echo(filters),
        **asdict(users),
        **asdict(runs),
        **asdict(usage),
        "by_model": [
            {**record, "cost_usd": _money(record["cost_usd"])} for record in _plain_records(models)
        ],
        "by_team": [
            {**record, "cost_usd": _money(record["cost_usd"])} for record in _plain_records(teams)
        ],
    }
    values["cost_usd"] = _money(usage.cost_usd)
    values["feedback_coverage"] = quality.feedback_coverage
    values["positive_rate"] = quality.positive_rate
    good = quality.cost_per_good_run
    values["cost_per_good_run"] = None if good is None else _money(good)
    values["by_score"] = [
        {**score, "mean": None if score["mean"] is None else round(score["mean"], COST_DECIMALS)}
        for score in scores
    ]
    return {key: values[key] for key in HEADLINE_KEYS}


def _plain_records(frame) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values (JSON-ready: no numpy scalars)."""
    return [
        {column: _plain(value) for column, value in zip(frame.columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
