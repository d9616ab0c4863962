"""An organization's own model prices: set or remove one, and re-price what is stored.

Re-pricing recomputes the cost of the organization's stored LLM calls of that
model (case-insensitive, as the pricer matches names) with the prices now in
force, except costs the spans provided themselves, then the cost of the traces
holding them and the daily rollups of their days. It runs in the same
transaction as the price change, bumps the data version and leaves an audit
event (``price.set`` / ``price.remove``).
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, update

from telemetry.audit import changes, record_audit
from telemetry.ingest.identities import chunks
from telemetry.models import LLM_CALL_KINDS, CostSource, ModelPrice, Observation, Trace
from telemetry.pricing import Price, Pricer, TokenUsage
from telemetry.rollups import refresh_rollups, trace_days
from telemetry.store import bump_data_version, org_id, price_overrides
from telemetry.timeutil import now_us

_PAGE = 10_000
_LLM_KINDS = [str(k) for k in LLM_CALL_KINDS]

# The audited fields of a price (before -> after).
_PRICE_FIELDS = (
    "provider",
    "input_per_mtok",
    "output_per_mtok",
    "cache_read_per_mtok",
    "cache_write_per_mtok",
)


def _same_model(column, model: str):
    return func.lower(column) == model.strip().lower()


def set_model_price(
    engine: Engine,
    org: str,
    model: str,
    price: Price,
    *,
    provider: str = "",
    actor: str = "",
    reprice: bool = True,
) -> int:
    """Set organization ``org``'s price for ``model`` (USD per million tokens).

    Returns how many stored LLM calls were re-priced (0 when ``reprice`` is False).
    """
    model = model.strip()
    if not model:
        raise ValueError("the model name is empty")
    for name in ("input", "output", "cache_read", "cache_write"):
        value = getattr(price, name)
        if value is not None and value < 0:
            raise ValueError(f"the {name.replace('_', '-')} price cannot be negative ({value})")
    values = {
        "model": model,
        "provider": provider.strip()[:100],
        "input_per_mtok": price.input,
        "output_per_mtok": price.output,
        "cache_read_per_mtok": price.cache_read,
        "cache_write_per_mtok": price.cache_write,
        "updated_us": now_us(),
    }
    with engine.begin() as conn:
        org_pk = org_id(conn, org)
        bump_data_version(conn, org_pk)
        found = conn.execute(
            select(ModelPrice.id, *(getattr(ModelPrice, name) for name in _PRICE_FIELDS)).where(
                ModelPrice.org_id == org_pk, _same_model(ModelPrice.model, model)
            )
        ).first()
        known = None if found is None else found[0]
        before = None if found is None else dict(zip(_PRICE_FIELDS, found[1:], strict=True))
        if known is None:
            conn.execute(insert(ModelPrice).values(org_id=org_pk, **values))
        else:
            conn.execute(update(ModelPrice).where(ModelPrice.id == known).values(**values))
        repriced = reprice_model(conn, org_pk, model) if reprice else 0
        after = {name: values[name] for name in _PRICE_FIELDS}
        details = {**changes(before, after), "repriced": repriced}
        record_audit(conn, org_pk, "price.set", actor=actor, target=model, details=details)
    return repriced


def remove_model_price(
    engine: Engine, org: str, model: str, *, actor: str = "", reprice: bool = True
) -> int:
    """Remove ``org``'s own price for ``model``; the catalog prices it again from now on.

    Returns how many stored LLM calls were re-priced. Raises LookupError when the
    organization has no price for that model.
    """
    with engine.begin() as conn:
        org_pk = org_id(conn, org)
        bump_data_version(conn, org_pk)
        found = conn.execute(
            select(*(getattr(ModelPrice, name) for name in _PRICE_FIELDS)).where(
                ModelPrice.org_id == org_pk, _same_model(ModelPrice.model, model)
            )
        ).first()
        removed = conn.execute(
            delete(ModelPrice).where(
                ModelPrice.org_id == org_pk, _same_model(ModelPrice.model, model)
            )
        ).rowcount
        if not removed:
            raise LookupError(
                f"organization {org!r} has no own price for {model!r}; see: prices list --org {org}"
            )
        repriced = reprice_model(conn, org_pk, model) if reprice else 0
        record_audit(
            conn,
            org_pk,
            "price.remove",
            actor=actor,
            target=model,
            details={
                **changes(dict(zip(_PRICE_FIELDS, found, strict=True)), None),
                "repriced": repriced,
            },
        )
    return repriced


def reprice_model(conn: Connection, org_pk: int, model: str) -> int:
    """Re-price the stored LLM calls of ``model`` with the prices in force; return how many."""
    pricer = Pricer(price_overrides(conn, org_pk))
    columns = (
        Observation.id,
        Observation.trace_pk,
        Observation.provider,
        Observation.model,
        Observation.start_us,
        Observation.input_tokens,
        Observation.output_tokens,
        Observation.cache_read_tokens,
        Observation.cache_write_tokens,
    )
    statement = (
        update(Observation)
        .where(Observation.id == bindparam("b_id"))
        .values(cost_usd=bindparam("b_cost"), cost_source=bindparam("b_source"))
    )
    repriced = 0
    traces: set[int] = set()
    last_id = 0
    while True:
        page = conn.execute(
            select(*columns)
            .where(
                Observation.org_id == org_pk,
                _same_model(Observation.model, model),
                Observation.kind.in_(_LLM_KINDS),
                Observation.cost_source != str(CostSource.PROVIDED),
                Observation.id > last_id,
            )
            .order_by(Observation.id)
            .limit(_PAGE)
        ).all()
        if not page:
            break
        updates = []
        for row in page:
            usage = TokenUsage(
                row.input_tokens, row.output_tokens, row.cache_read_tokens, row.cache_write_tokens
            )
            cost, source = pricer.price(
                provider=row.provider, model=row.model, usage=usage, when_us=row.start_us
            )
            updates.append({"b_id": row.id, "b_cost": cost, "b_source": str(source)})
            traces.add(row.trace_pk)
        conn.execute(statement, updates)
        repriced += len(page)
        last_id = page[-1].id
    _recompute_trace_costs(conn, sorted(traces))
    refresh_rollups(conn, org_pk, trace_days(conn, sorted(traces)))  # costs by day changed
    return repriced


def _recompute_trace_costs(conn: Connection, trace_pks: list[int]) -> None:
    """A trace's cost is the sum of its LLM calls' costs (as telemetry.derive defines it)."""
    calls_cost = (
        select(func.coalesce(func.sum(Observation.cost_usd), 0.0))
        .where(Observation.trace_pk == Trace.id, Observation.kind.in_(_LLM_KINDS))
        .scalar_subquery()
    )
    for part in chunks(trace_pks):
        conn.execute(update(Trace).where(Trace.id.in_(part)).values(cost_usd=calls_cost))
