"""The review queue: runs a person should look at, and the scores a trace already has.

The queue holds the scope's traces not yet reviewed (no score of source
``human``), in this order: those whose latest verdict is negative, then failed
runs (status ``error`` or ``timeout``), then a random sample of the rest (a
stable pseudo-random order from the seed, so next/previous stay put).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    and_,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
)

from telemetry.filters import Filters
from telemetry.models import Score, Trace, TraceQuality, TraceStatus, User
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
_QUALITY_JOIN = and_(TraceQuality.org_id == Trace.org_id, TraceQuality.trace_id == Trace.trace_id)
_FAILED = (str(TraceStatus.ERROR), str(TraceStatus.TIMEOUT))


def review_queue(
    engine: Engine, filters: Filters, *, limit: int = 200, sample: int = 50, seed: int = 0
) -> pd.DataFrame:
    """Up to ``limit`` runs to review: negative, failed, then ``sample`` others at random."""
    with engine.connect() as conn:
        return review_queue_in(conn, resolve_scope(conn, filters), limit, sample, seed)


def review_queue_in(conn: Connection, scope: Scope, limit: int, sample: int, seed: int):
    negative = TraceQuality.positive == 0
    failed = Trace.status.in_(_FAILED)
    not_reviewed = or_(TraceQuality.reviewed.is_(None), TraceQuality.reviewed == 0)
    columns = (
        Trace.trace_id,
        Trace.name,
        Trace.start_us,
        Trace.status,
        Trace.agent,
        func.coalesce(User.external_id, ""),
        Trace.cost_usd,
    )
    base = (
        select(*columns)
        .select_from(Trace)
        .outerjoin(TraceQuality, _QUALITY_JOIN)
        .outerjoin(User, User.id == Trace.user_id)
        .where(trace_where(scope), not_reviewed)
    )
    flagged = conn.execute(
        base.add_columns(case((negative, 0), else_=1).label("rank"))
        .where(or_(negative, failed))
        .order_by(literal_column("rank"), Trace.start_us.desc(), Trace.id)
        .limit(limit)
    ).all()
    rows = [(*row[:-1], REVIEW_REASONS[row[-1]]) for row in flagged]
    room = min(sample, limit - len(rows))
    if room > 0:
        # A multiplicative hash of the row id: a fixed, seeded shuffle in portable SQL.
        # 64-bit arithmetic on both backends (PostgreSQL's int4 would overflow).
        mixed = cast(Trace.id, BigInteger) * literal_column("40503", BigInteger)
        offset = literal_column(str(int(seed) * 7919 % 1000003), BigInteger)
        shuffle = (mixed + offset) % literal_column("1000003", BigInteger)
        others = conn.execute(
            base.where(
                or_(TraceQuality.positive.is_(None), TraceQuality.positive == 1),
                Trace.status.not_in(_FAILED),
            )
            .order_by(shuffle, Trace.id)
            .limit(room)
        ).all()
        rows.extend((*row, REVIEW_REASONS[2]) for row in others)
    return pd.DataFrame(rows, columns=QUEUE_COLUMNS)


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
