"""What a rule can watch, and how its value is read: through the query layer's functions only.

Each metric is one figure of a query function (docs/alerts.md gives the meaning
per scope): the trace figures of :func:`~telemetry.queries.activity.run_totals_in`,
the LLM-call figures of :func:`~telemetry.queries.llm_calls.llm_call_totals_in`,
the token and cost figures of :func:`~telemetry.queries.costs.usage_totals_in` and
the month-end forecast of :func:`~telemetry.queries.billing.billing_month`, and the
quality figures of :mod:`telemetry.queries.quality` (negative-feedback rate, coverage,
``score_mean.NAME``: the mean of one score name).
A model scope reads LLM calls (traces carry no model): its runs are that model's
calls and its error rate the share of them that failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from telemetry.alerts.windows import MONTH_TO_DATE, window_filters
from telemetry.queries.activity import run_totals_in, trace_count_in
from telemetry.queries.billing import billing_month
from telemetry.queries.costs import usage_totals_in
from telemetry.queries.llm_calls import llm_call_totals_in
from telemetry.queries.quality import quality_totals_in, score_summary_in
from telemetry.queries.scope import Subject, resolve_scope
from telemetry.timeutil import day_of_number, day_of_us, month_number

RATIO, MS, COUNT, USD = "ratio", "ms", "count", "usd"


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    meaning: str
    model_scope: bool = True  # can it be scoped to (or grouped by) a model?


METRICS: dict[str, Metric] = {
    metric.key: metric
    for metric in (
        Metric("error_rate", "Error rate", RATIO, "errors ÷ finished runs (model: failed calls)"),
        Metric(
            "timeout_rate", "Timeout rate", RATIO, "timeouts ÷ finished runs", model_scope=False
        ),
        Metric("latency_p95_ms", "LLM latency p95", MS, "95th percentile of LLM-call durations"),
        Metric("latency_avg_ms", "LLM latency (mean)", MS, "mean duration of LLM calls"),
        Metric("runs", "Runs", COUNT, "runs started in the window (model: LLM calls)"),
        Metric("cost_usd", "Cost", USD, "cost of the LLM calls in the window"),
        Metric("tokens", "Tokens", COUNT, "input + output tokens of the LLM calls"),
        Metric("unpriced_share", "Unpriced share", RATIO, "LLM calls without a price ÷ calls"),
        Metric(
            "negative_feedback_rate",
            "Negative-feedback rate",
            RATIO,
            "runs whose latest verdict is negative ÷ rated runs (minimum runs: rated runs)",
            model_scope=False,
        ),
        Metric(
            "feedback_coverage",
            "Feedback coverage",
            RATIO,
            "runs with a verdict ÷ runs",
            model_scope=False,
        ),
        Metric(
            "forecast_cost_usd",
            "Month-end cost forecast",
            USD,
            "month-to-date cost ÷ elapsed days × days in the month",
        ),
    )
}
FORECAST = "forecast_cost_usd"
# "score_mean.NAME": the mean value of the scores named NAME of the window's runs.
SCORE_MEAN = "score_mean."
SCORE = "score"


@dataclass(frozen=True)
class Target:
    """What a rule looks at: organization, teams and environments (None = all), a subject."""

    org: str
    teams: tuple[str, ...] | None = None
    environments: tuple[str, ...] | None = None
    subject: Subject = field(default_factory=Subject)

    @property
    def by_model(self) -> bool:
        return self.subject.model is not None


@dataclass(frozen=True)
class Measurement:
    """A rule's value over its window, and the runs it rests on (``None`` = not counted)."""

    value: float | None
    runs: int | None


def check_metric(key: str) -> Metric:
    key = str(key).strip()
    if key.startswith(SCORE_MEAN) and key[len(SCORE_MEAN) :].strip():
        name = key[len(SCORE_MEAN) :]
        meaning = f"mean value of the {name} scores of the window's runs (minimum runs: scores)"
        return Metric(key, f"Mean {name}", SCORE, meaning, model_scope=False)
    try:
        return METRICS[key]
    except KeyError:
        known = ", ".join([*METRICS, SCORE_MEAN + "NAME"])
        raise ValueError(f"metric {key!r} does not exist; use one of {known}") from None


def measure(
    engine: Engine, target: Target, metric: str, window: str, at_us: int, *, need_runs: bool
) -> Measurement:
    """The value of ``metric`` over ``window`` ending at ``at_us`` in ``target``.

    ``need_runs``: also count the runs (a rule with a minimum of runs needs them;
    the metric's own query gives them for free when it is a trace or call figure).
    """
    if metric == FORECAST:
        return _forecast(engine, target, at_us, need_runs=need_runs)
    filters = window_filters(target.org, target.teams, target.environments, window, at_us)
    with engine.connect() as conn:
        scope = resolve_scope(conn, filters, target.subject)
        if metric in ("negative_feedback_rate", "feedback_coverage"):
            found = quality_totals_in(conn, scope)
            if metric == "feedback_coverage":
                return Measurement(found.feedback_coverage, found.runs)
            return Measurement(found.negative_rate, found.rated)
        if metric.startswith(SCORE_MEAN):
            name = metric[len(SCORE_MEAN) :]
            scores = {s["name"]: s for s in score_summary_in(conn, scope)}
            if name not in scores:
                return Measurement(None, 0)
            return Measurement(scores[name]["mean"], scores[name]["count"])
        if metric in ("error_rate", "timeout_rate", "runs") and not target.by_model:
            runs = run_totals_in(conn, scope)
            value = {"error_rate": runs.error_rate, "timeout_rate": runs.timeout_rate}
            return Measurement(value.get(metric, runs.traces), runs.traces)
        if metric in ("error_rate", "runs", "latency_p95_ms", "latency_avg_ms"):
            calls = llm_call_totals_in(conn, scope, percentile=metric == "latency_p95_ms")
            value = {
                "error_rate": calls.error_rate,
                "runs": calls.calls,
                "latency_p95_ms": calls.latency_p95_ms,
                "latency_avg_ms": calls.latency_avg_ms,
            }[metric]
            counted = calls.calls if target.by_model else _runs(conn, scope, need_runs)
            return Measurement(value, counted)
        usage = usage_totals_in(conn, scope)
        if metric == "unpriced_share":
            value = None if usage.priced_share is None else 1.0 - usage.priced_share
        else:
            value = {"cost_usd": usage.cost_usd, "tokens": usage.tokens}[metric]
        counted = usage.generations if target.by_model else _runs(conn, scope, need_runs)
        return Measurement(value, counted)


def _runs(conn, scope, need_runs: bool) -> int | None:
    return trace_count_in(conn, scope) if need_runs else None


def _forecast(engine: Engine, target: Target, at_us: int, *, need_runs: bool) -> Measurement:
    today = day_of_number(day_of_us(at_us - 1))
    filters = window_filters(target.org, target.teams, target.environments, MONTH_TO_DATE, at_us)
    month = billing_month(
        engine,
        filters,
        month=month_number(today),
        today=today,
        subject=target.subject,
        until_us=at_us,
    )
    runs = None
    if need_runs:
        with engine.connect() as conn:
            scope = resolve_scope(conn, filters, target.subject)
            runs = (
                usage_totals_in(conn, scope).generations
                if target.by_model
                else trace_count_in(conn, scope)
            )
    return Measurement(month.forecast_usd, runs)
