"""The Overview page's headline figures, each beside its value in the previous period."""

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


@dataclass(frozen=True)
class Kpi:
    """One headline figure: ``value`` for the period, ``previous`` for the period before.

    ``previous`` is computed on ``filters.previous()`` (same length, just
    before, same organization, teams and environments). Either may be ``None``
    for a rate with nothing to divide by. ``unit`` is ``"count"``, ``"ratio"``
    (a fraction; display as a percentage) or ``"usd"``.
    """

    key: str
    label: str
    value: float | int | None
    previous: float | int | None
    unit: str

    @property
    def change(self) -> float | int | None:
        """``value - previous``, or ``None`` when either is missing."""
        if self.value is None or self.previous is None:
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


def _kpi_values(conn: Connection, filters: Filters) -> dict[str, float | int | None]:
    scope = resolve_scope(conn, filters)
    users = user_counts_in(conn, scope)  # active_modules is not a KPI: one scan less
    runs = run_totals_in(conn, scope)
    usage = usage_totals_in(conn, scope)
    return {
        "users_total": users.users_total,
        "users_active": users.users_active,
        "users_new": users.users_new,
        "activation_rate": users.activation_rate,
        "traces": runs.traces,
        "sessions": runs.sessions,
        "error_rate": runs.error_rate,
        "cost_usd": usage.cost_usd,
        "priced_share": usage.priced_share,
        "tokens": usage.tokens,
    }


def overview_kpis(engine: Engine, filters: Filters) -> list[Kpi]:
    """The Overview KPIs in display order (keys in :data:`KPI_KEYS`), with previous values.

    Definitions: :class:`~telemetry.queries.adoption.Adoption`,
    :class:`~telemetry.queries.activity.RunTotals` and
    :class:`~telemetry.queries.costs.UsageTotals`; ``tokens`` = input + output.
    """
    with engine.connect() as conn:
        current = _kpi_values(conn, filters)
        previous = _kpi_values(conn, filters.previous())
    return [
        Kpi(key=key, label=label, value=current[key], previous=previous[key], unit=unit)
        for key, label, unit in KPI_KEYS
    ]
