"""The Overview page's headline figures, each beside its value in the previous period.

Every figure carries its formula as :class:`Term` values (the numbers it is
computed from, in both periods), so a card or a report can say "Activation rate
= users with a first run by the period's end (38) ÷ total users (47)" with the
numbers of the query that computed it. Comparisons follow docs/metrics.md
("Comparisons"): against :meth:`Filters.previous`, and "new" (no change) when the
previous period holds no data at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from telemetry.filters import Filters
from telemetry.queries.activity import run_totals_in
from telemetry.queries.adoption import user_counts_in
from telemetry.queries.costs import usage_totals_in
from telemetry.queries.scope import resolve_scope

# How a Kpi's value reads: a plain count, a fraction in [0, 1] (show as %), dollars.
UNIT_COUNT = "count"
UNIT_RATIO = "ratio"
UNIT_USD = "usd"
# How a Kpi's terms combine into its value.
DIVIDED_BY = "÷"
PLUS = "+"


@dataclass(frozen=True)
class Term:
    """One number a figure is computed from: what it counts, its value and unit."""

    label: str
    value: float | int | None
    unit: str = UNIT_COUNT


@dataclass(frozen=True)
class Kpi:
    """One headline figure: ``value`` for the period, ``previous`` for the period before.

    ``previous`` is computed on ``filters.previous()`` (docs/metrics.md,
    "Comparisons"). Either may be ``None`` for a rate with nothing to divide by.
    ``unit`` is ``"count"``, ``"ratio"`` (a fraction; display as a percentage),
    ``"usd"`` or ``"seconds"``. ``terms`` / ``previous_terms`` are the numbers
    the value is computed from, joined by ``operator`` (``"÷"``, ``"+"``, or
    ``""`` for a single term that is the value itself). ``new`` is true when the
    previous period holds no data (no run, no LLM call): there is nothing to
    compare with, so there is no change. ``notes`` are other figures worth
    saying beside it (the mean beside a median).
    """

    key: str
    label: str
    value: float | int | None
    previous: float | int | None
    unit: str
    terms: tuple[Term, ...] = ()
    previous_terms: tuple[Term, ...] = ()
    operator: str = ""
    new: bool = False
    notes: tuple[Term, ...] = ()

    @property
    def change(self) -> float | int | None:
        """``value - previous``; ``None`` when either is missing or the figure is new."""
        if self.new or self.value is None or self.previous is None:
            return None
        return self.value - self.previous


# (key, label, unit) in display order.
KPI_KEYS = (
    ("users_total", "Total users", UNIT_COUNT),
    ("users_active", "Active users", UNIT_COUNT),
    ("users_new", "New users", UNIT_COUNT),
    ("activation_rate", "Activation rate", UNIT_RATIO),
    ("traces", "Runs", UNIT_COUNT),
    ("sessions", "Sessions", UNIT_COUNT),
    ("error_rate", "Error rate", UNIT_RATIO),
    ("cost_usd", "Cost", UNIT_USD),
    ("priced_share", "Priced share of calls", UNIT_RATIO),
    ("tokens", "Tokens (input + output)", UNIT_COUNT),
)
# Each figure's formula: (operator, (value key, what it counts)...). One term = the value.
FORMULAS: dict[str, tuple[str, tuple[tuple[str, str, str], ...]]] = {
    "users_total": (
        "",
        (
            (
                "users_total",
                "directory users of the selected teams that exist by the period's end, not removed",
                UNIT_COUNT,
            ),
        ),
    ),
    "users_active": ("", (("users_active", "distinct users with a run", UNIT_COUNT),)),
    "users_new": (
        "",
        (("users_new", "active users whose first run ever is in the period", UNIT_COUNT),),
    ),
    "activation_rate": (
        DIVIDED_BY,
        (
            ("users_activated", "users with a first run by the period's end", UNIT_COUNT),
            ("users_total", "total users", UNIT_COUNT),
        ),
    ),
    "traces": ("", (("traces", "runs (traces) started in the period", UNIT_COUNT),)),
    "sessions": ("", (("sessions", "distinct session ids of those runs", UNIT_COUNT),)),
    "error_rate": (
        DIVIDED_BY,
        (
            ("errors", "runs with status error", UNIT_COUNT),
            ("finished", "finished runs", UNIT_COUNT),
        ),
    ),
    "cost_usd": ("", (("cost_usd", "sum of the period's LLM-call costs", UNIT_USD),)),
    "priced_share": (
        DIVIDED_BY,
        (
            ("priced_generations", "LLM calls with a price", UNIT_COUNT),
            ("generations", "LLM calls", UNIT_COUNT),
        ),
    ),
    "tokens": (
        PLUS,
        (
            ("input_tokens", "input tokens (cached included)", UNIT_COUNT),
            ("output_tokens", "output tokens", UNIT_COUNT),
        ),
    ),
}


def _kpi_values(conn: Connection, filters: Filters) -> dict[str, float | int | None]:
    scope = resolve_scope(conn, filters)
    users = user_counts_in(conn, scope)  # active_modules is not a KPI: one scan less
    runs = run_totals_in(conn, scope)
    usage = usage_totals_in(conn, scope)
    return {
        "users_total": users.users_total,
        "users_active": users.users_active,
        "users_new": users.users_new,
        "users_activated": users.users_activated,
        "activation_rate": users.activation_rate,
        "traces": runs.traces,
        "sessions": runs.sessions,
        "errors": runs.errors,
        "finished": runs.finished,
        "error_rate": runs.error_rate,
        "cost_usd": usage.cost_usd,
        "generations": usage.generations,
        "priced_generations": usage.priced_generations,
        "priced_share": usage.priced_share,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "tokens": usage.tokens,
    }


def holds_data(values: dict) -> bool:
    """True when a period has at least one run or one LLM call."""
    return bool(values["traces"] or values["generations"])


def terms_of(key: str, values: dict) -> tuple[str, tuple[Term, ...]]:
    """The operator and :class:`Term` values of figure ``key`` (see :data:`FORMULAS`)."""
    operator, parts = FORMULAS[key]
    return operator, tuple(Term(label, values[name], unit) for name, label, unit in parts)


def overview_kpis(engine: Engine, filters: Filters) -> list[Kpi]:
    """The Overview KPIs in display order (keys in :data:`KPI_KEYS`), with previous values.

    Definitions: :class:`~telemetry.queries.adoption.Adoption`,
    :class:`~telemetry.queries.activity.RunTotals` and
    :class:`~telemetry.queries.costs.UsageTotals`; ``tokens`` = input + output.
    """
    with engine.connect() as conn:
        current = _kpi_values(conn, filters)
        previous = _kpi_values(conn, filters.previous())
    new = not holds_data(previous)
    kpis = []
    for key, label, unit in KPI_KEYS:
        operator, terms = terms_of(key, current)
        kpis.append(
            Kpi(
                key=key,
                label=label,
                value=current[key],
                previous=previous[key],
                unit=unit,
                terms=terms,
                previous_terms=terms_of(key, previous)[1],
                operator=operator,
                new=new,
            )
        )
    return kpis
