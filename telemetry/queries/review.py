"""The review queue: runs a person should look at, and the scores a trace already has.

The queue holds the scope's traces not yet reviewed (no score of source
``human``), in this order: those whose latest verdict is negative, then failed
runs (status ``error`` or ``timeout``), then a random sample of the other
finished runs (seeded, so the same filters give the same queue).
"""

from __future__ import annotations

import random

import pandas as pd
from sqlalchemy import Connection, Engine, and_, func, or_, select

from telemetry.filters import Filters
from telemetry.models import Score, Trace, TraceStatus, User
from telemetry.queries.scope import Scope, resolve_scope, trace_where
from telemetry.scores import VERDICT_NAMES, score_configs
from telemetry.store import org_id

REVIEW_REASONS = ("negative feedback", "failed", "sample")
QUEUE_COLUMNS = [
    "trace_id",
    "name",
    "start_us",
    "status",
    "agent",
    "user",
    "cost_usd",
    "reason",
]
_FAILED = (str(TraceStatus.ERROR), str(TraceStatus.TIMEOUT))


def review_queue(
    engine: Engine, filters: Filters, *, limit: int = 200, sample: int = 50, seed: int = 0
) -> pd.DataFrame:
    """Up to ``limit`` runs to review: negative, failed, then ``sample`` others at random."""
    with engine.connect() as conn:
        return review_queue_in(conn, resolve_scope(conn, filters), limit, sample, seed)


_COLUMNS = (
    Trace.id,
    Trace.trace_id,
    Trace.name,
    Trace.start_us,
    Trace.status,
    Trace.agent,
    func.coalesce(User.external_id, ""),
    Trace.cost_usd,
)


def _runs(where, *order, limit: int):
    return (
        select(*_COLUMNS)
        .select_from(Trace)
        .outerjoin(User, User.id == Trace.user_id)
        .where(where, Trace.reviewed.is_(None))
        .order_by(*order)
        .limit(limit)
    )


def review_queue_in(conn: Connection, scope: Scope, limit: int, sample: int, seed: int):
    in_scope = trace_where(scope)
    # Rated runs come from the verdict index, failed runs from the status index.
    negative = conn.execute(
        _runs(and_(in_scope, Trace.verdict == 0), Trace.start_us.desc(), Trace.id, limit=limit)
    ).all()
    failed = conn.execute(
        _runs(
            and_(
                in_scope,
                Trace.status.in_(_FAILED),
                or_(Trace.verdict.is_(None), Trace.verdict == 1),
            ),
            Trace.start_us.desc(),
            Trace.id,
            limit=max(limit - len(negative), 0),
        )
    ).all()
    rows = [(*row, REVIEW_REASONS[0]) for row in negative]
    rows += [(*row, REVIEW_REASONS[1]) for row in failed]
    room = min(sample, limit - len(rows))
    if room > 0:
        rows += [(*row, REVIEW_REASONS[2]) for row in _sample(conn, scope, room, seed)]
    frame = pd.DataFrame(rows, columns=["pk", *QUEUE_COLUMNS])
    return frame.drop(columns="pk")


def _sample(conn: Connection, scope: Scope, size: int, seed: int) -> list:
    """About ``size`` finished, unfailed, unreviewed runs at random instants of the period.

    Each pick is the first such run at or after a random instant (seeded: the same
    filters give the same sample): one index probe each, whatever the period's size.
    """
    rng = random.Random(seed)
    low, high = scope.start_us, scope.end_us
    picked: dict[int, tuple] = {}
    ok = and_(
        trace_where(scope),
        Trace.status == str(TraceStatus.OK),
        or_(Trace.verdict.is_(None), Trace.verdict == 1),
    )
    for _attempt in range(size * 2):
        if len(picked) >= size:
            break
        moment = rng.randrange(low, high)
        found = conn.execute(
            _runs(and_(ok, Trace.start_us >= moment), Trace.start_us, Trace.id, limit=1)
        ).first()
        if found is not None:
            picked.setdefault(found[0], tuple(found))
    return sorted(picked.values(), key=lambda row: (row[3], row[0]))


SCORE_LIST_COLUMNS = ["time_us", "name", "value", "label", "source", "author", "comment", "span_id"]


def trace_scores(engine: Engine, filters: Filters, *, trace_id: str) -> pd.DataFrame:
    """Every score of one trace of the organization, oldest first (comments: telemetry text).

    Callers show it only beside a trace the viewer may see (the trace view checks).
    """
    with engine.connect() as conn:
        org = org_id(conn, filters.org)
        rows = conn.execute(
            select(
                Score.time_us,
                Score.name,
                Score.value,
                Score.label,
                Score.source,
                Score.author,
                Score.comment,
                Score.span_id,
            )
            .where(Score.org_id == org, Score.trace_id == trace_id)
            .order_by(Score.time_us, Score.id)
        ).all()
    return pd.DataFrame(rows, columns=SCORE_LIST_COLUMNS)


def review_choices(engine: Engine, filters: Filters) -> list[tuple[str, tuple[str, ...]]]:
    """The configured score names a reviewer can pick a label for (not the verdicts)."""
    with engine.connect() as conn:
        configs = score_configs(conn, org_id(conn, filters.org))
    return [
        (config["name"], config["labels"])
        for config in configs
        if config["labels"] and config["name"] not in VERDICT_NAMES and not config["verdict"]
    ]
