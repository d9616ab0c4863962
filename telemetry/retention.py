"""Retention per organization: content kept N days, records M days; rollups outlive the purge.

A policy (``retention_policy``) keeps prompts, responses and tool arguments for
``content_days`` and every trace, span, session and quarantined record for
``record_days`` (NULL: forever; content never longer than records). A run
computes two horizons, UTC day numbers below which things go: a day is "older
than N days" when it lies more than N days before today.

- Records: a trace whose start day is before the records horizon goes with its
  spans, unless one of its spans starts on or after the horizon (a run crossing
  it is kept whole until it is entirely older). Sessions left without a trace
  and quarantined records older than the horizon go too.
- Content: spans before the content horizon lose their input/output content and
  events (where instrumentations put messages); their numbers stay. A run looks
  from a week before the previous run's horizon on, so late spans are caught
  without re-reading all history every day.

The rollups are NOT touched: billing and trends of purged periods survive. The
horizon a run reached is stored (``records_purged_before_day``, never moving
back), and :mod:`telemetry.rollups` neither checks nor recomputes the days
before it: there the rollups are the only truth. Deletes run in batches of
short transactions, so ingest waits at most one batch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from sqlalchemy import Connection, Engine, and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from telemetry.ingest.audit import record_audit
from telemetry.jobs import Job
from telemetry.models import (
    IngestError,
    Observation,
    Organization,
    RetentionPolicy,
    Score,
    Session,
    Trace,
    TraceQuality,
)
from telemetry.store import bump_data_version, insert_ignoring_duplicates, org_id
from telemetry.timeutil import US_PER_DAY, day_of_number, day_of_us, now_us

BATCH_ROWS = 500  # traces (or content rows) per transaction: a short wait for ingest
# Content is cleared from this many days before the last run's horizon on, not from the
# first day ever: spans arriving late for older days are caught, history is not re-read.
LATE_DAYS = 7
CLEARED_CONTENT = {"input_content": "", "output_content": "", "events": "[]"}
FOREVER = "forever"


@dataclass(frozen=True)
class Policy:
    """An organization's retention; ``None`` days keep forever."""

    content_days: int | None = None
    record_days: int | None = None
    content_purged_before_day: int | None = None
    records_purged_before_day: int | None = None

    def describe(self) -> str:
        def days(value: int | None) -> str:
            return "forever" if value is None else f"{value} days"

        return f"content {days(self.content_days)}, records {days(self.record_days)}"


@dataclass
class RetentionResult:
    """What one organization's run deleted (or, in a dry run, would delete)."""

    org: str
    dry_run: bool
    records_horizon: str | None = None  # ISO day: records before it go
    content_horizon: str | None = None
    counts: dict[str, int] = field(
        default_factory=lambda: {
            "traces": 0,
            "spans": 0,
            "sessions": 0,
            "ingest_errors": 0,
            "scores": 0,
            "spans_content_cleared": 0,
        }
    )

    def as_dict(self) -> dict:
        return asdict(self)


def check_policy(content_days: int | None, record_days: int | None) -> None:
    """Refuse negative or zero days and content kept longer than its records (ValueError)."""
    for name, value in (("content days", content_days), ("record days", record_days)):
        if value is not None and (isinstance(value, bool) or int(value) != value or value < 1):
            raise ValueError(
                f"{name} must be a whole number of days, at least 1 (got {value!r}); "
                "leave it empty to keep forever"
            )
    if record_days is not None and (content_days is None or content_days > record_days):
        content = "forever" if content_days is None else f"{content_days} days"
        raise ValueError(
            f"content cannot be kept longer than the records it belongs to ({content} > "
            f"{record_days} days of records); set content days to {record_days} or fewer"
        )


def parse_days(text: str | None) -> int | None:
    """A CLI/form value: a whole number of days, or empty / ``forever`` for no limit."""
    if text is None or text.strip().lower() in ("", FOREVER):
        return None
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not a number of days; give a whole number such as 90, or 'forever'"
        ) from None


def get_policy(conn: Connection, org: int) -> Policy:
    row = conn.execute(select(RetentionPolicy).where(RetentionPolicy.org_id == org)).first()
    if row is None:
        return Policy()
    return Policy(
        row.content_days,
        row.record_days,
        row.content_purged_before_day,
        row.records_purged_before_day,
    )


def records_horizon(conn: Connection, org: int) -> int | None:
    """The day before which this organization's records were purged (None: nothing purged)."""
    return conn.execute(
        select(RetentionPolicy.records_purged_before_day).where(RetentionPolicy.org_id == org)
    ).scalar()


def set_policy(
    engine: Engine,
    slug: str,
    *,
    content_days: int | None,
    record_days: int | None,
    actor: str = "",
) -> Policy:
    """Store ``slug``'s retention (checked first: nothing is stored when it is invalid)."""
    check_policy(content_days, record_days)
    with engine.begin() as conn:
        org = org_id(conn, slug)
        before = get_policy(conn, org)
        insert_ignoring_duplicates(conn, RetentionPolicy.__table__, [{"org_id": org}])
        conn.execute(
            update(RetentionPolicy)
            .where(RetentionPolicy.org_id == org)
            .values(
                content_days=content_days,
                record_days=record_days,
                updated_us=now_us(),
                updated_by=actor[:256],
            )
        )
        record_audit(
            conn,
            org,
            "retention.set",
            actor=actor,
            target=slug,
            details={
                "before": {"content_days": before.content_days, "record_days": before.record_days},
                "after": {"content_days": content_days, "record_days": record_days},
            },
        )
        return get_policy(conn, org)


def horizon_of(days: int | None, today: int) -> int | None:
    """The first day kept by a limit of ``days`` on day ``today`` (None: no limit)."""
    return None if days is None else today - days


# --- what goes ----------------------------------------------------------------------


def _purgeable_traces(org: int, horizon: int):
    """Traces starting before ``horizon`` none of whose spans start on or after it."""
    later = exists().where(Observation.trace_pk == Trace.id, Observation.start_day >= horizon)
    return and_(Trace.org_id == org, Trace.start_day < horizon, ~later)


def _orphan_sessions(org: int, horizon: int, *, after_purge: bool):
    """Sessions created before the horizon without a (kept) trace."""
    kept = aliased(Trace)
    referenced = exists().where(kept.org_id == org, kept.session_id == Session.id)
    if not after_purge:  # a dry run: the traces still there, less the ones that would go
        later = exists().where(Observation.trace_pk == kept.id, Observation.start_day >= horizon)
        referenced = referenced.where((kept.start_day >= horizon) | later)
    return and_(Session.org_id == org, Session.created_us < horizon * US_PER_DAY, ~referenced)


def _content_rows(org: int, horizon: int, records: int | None, since: int | None):
    """Spans before the content horizon still holding content (from day ``since`` on)."""
    has_content = (
        (Observation.input_content != "")
        | (Observation.output_content != "")
        | (Observation.events != "[]")
    )
    where = [Observation.org_id == org, Observation.start_day < horizon, has_content]
    if since is not None:
        where.append(Observation.start_day >= since)
    if records is not None:  # spans of traces that go anyway are counted as deleted instead
        where.append(
            ~Observation.trace_pk.in_(select(Trace.id).where(_purgeable_traces(org, records)))
        )
    return and_(*where)


def _count(conn: Connection, statement) -> int:
    return int(conn.execute(statement).scalar_one())


def _plan(conn: Connection, org: int, records: int | None, content: int | None, since) -> dict:
    counts = dict.fromkeys(RetentionResult("", True).counts, 0)
    if records is not None:
        doomed = select(Trace.id).where(_purgeable_traces(org, records))
        counts["traces"] = _count(conn, select(func.count()).select_from(doomed.subquery()))
        counts["spans"] = _count(conn, select(func.count()).where(Observation.trace_pk.in_(doomed)))
        counts["sessions"] = _count(
            conn, select(func.count()).where(_orphan_sessions(org, records, after_purge=False))
        )
        counts["ingest_errors"] = _count(
            conn, select(func.count()).where(_old_errors(org, records))
        )
        counts["scores"] = _count(
            conn,
            select(func.count()).where(
                or_(Score.trace_pk.in_(doomed), _old_unattached_scores(org, records))
            ),
        )
    if content is not None:
        counts["spans_content_cleared"] = _count(
            conn, select(func.count()).where(_content_rows(org, content, records, since))
        )
    return counts


def _old_unattached_scores(org: int, horizon: int):
    """Scores given before the horizon whose trace never arrived."""
    return and_(Score.org_id == org, Score.trace_pk.is_(None), Score.time_us < horizon * US_PER_DAY)


def _old_errors(org: int, horizon: int):
    return and_(IngestError.org_id == org, IngestError.created_us < horizon * US_PER_DAY)


# --- running ------------------------------------------------------------------------


def run_retention(
    engine: Engine,
    slug: str | None = None,
    *,
    dry_run: bool = False,
    today: int | None = None,
    actor: str = "",
    batch_rows: int = BATCH_ROWS,
) -> list[RetentionResult]:
    """Apply (or with ``dry_run`` only count) the retention of ``slug``, or of every
    organization with a policy. ``today`` (a day number) defaults to the current UTC day."""
    today = day_of_us(now_us()) if today is None else today
    results = []
    for org, name in _organizations(engine, slug):
        with engine.connect() as conn:
            policy = get_policy(conn, org)
        records = _forward(horizon_of(policy.record_days, today), policy.records_purged_before_day)
        content = _forward(horizon_of(policy.content_days, today), policy.content_purged_before_day)
        result = RetentionResult(name, dry_run, _iso(records), _iso(content))
        reached = policy.content_purged_before_day
        since = None if reached is None else reached - LATE_DAYS
        if dry_run:
            with engine.connect() as conn:
                result.counts = _plan(conn, org, records, content, since)
        else:
            _apply(engine, org, records, (content, since), result.counts, batch_rows)
            with engine.begin() as conn:
                _store_horizons(conn, org, records, content)
                bump_data_version(conn, org)
                record_audit(
                    conn,
                    org,
                    "retention.run",
                    actor=actor,
                    target=name,
                    details={"policy": policy.describe(), **asdict(result)},
                )
        results.append(result)
    return results


def _forward(computed: int | None, reached: int | None) -> int | None:
    """A horizon never moves back: a longer policy cannot bring purged data back."""
    if computed is None:
        return None
    return computed if reached is None else max(computed, reached)


def _iso(day: int | None) -> str | None:
    return None if day is None else day_of_number(day).isoformat()


def _organizations(engine: Engine, slug: str | None) -> list[tuple[int, str]]:
    with engine.connect() as conn:
        if slug is not None:
            return [(org_id(conn, slug), slug)]
        query = (
            select(Organization.id, Organization.slug)
            .join(RetentionPolicy, RetentionPolicy.org_id == Organization.id)
            .where(
                (RetentionPolicy.record_days.is_not(None))
                | RetentionPolicy.content_days.is_not(None)
            )
            .order_by(Organization.slug)
        )
        return [(org, name) for org, name in conn.execute(query)]


def _apply(
    engine: Engine, org: int, records: int | None, content: tuple, counts: dict, batch: int
) -> None:
    horizon, since = content
    if records is not None:
        _delete_traces(engine, org, records, counts, batch)
        counts["sessions"] = _delete_in_batches(
            engine, org, Session, _orphan_sessions(org, records, after_purge=True), batch
        )
        counts["ingest_errors"] = _delete_in_batches(
            engine, org, IngestError, _old_errors(org, records), batch
        )
        counts["scores"] += _delete_in_batches(
            engine, org, Score, _old_unattached_scores(org, records), batch
        )
    if horizon is not None:
        counts["spans_content_cleared"] = _clear_content(
            engine, org, (horizon, since), records, batch
        )


def _delete_traces(engine: Engine, org: int, horizon: int, counts: dict, batch: int) -> None:
    """Traces, their spans and their scores (a score's comment is content too)."""
    for conn, ids in _batches(engine, org, Trace, _purgeable_traces(org, horizon), batch):
        trace_keys = select(Trace.trace_id).where(Trace.id.in_(ids))
        conn.execute(
            delete(TraceQuality).where(
                TraceQuality.org_id == org, TraceQuality.trace_id.in_(trace_keys)
            )
        )
        counts["scores"] += conn.execute(delete(Score).where(Score.trace_pk.in_(ids))).rowcount
        counts["spans"] += conn.execute(
            delete(Observation).where(Observation.trace_pk.in_(ids))
        ).rowcount
        counts["traces"] += conn.execute(delete(Trace).where(Trace.id.in_(ids))).rowcount


def _batches(engine: Engine, org: int, table, condition, batch: int):
    """Yield (connection, ids) of rows matching ``condition``, one short transaction each,
    holding the organization's write lock (writers wait: see bump_data_version); when
    none match, the lock is not taken.

    The caller deletes or empties the ids it gets, so they no longer match and the
    next batch finds the next rows from the start of its index range.
    """
    query = select(table.id).where(condition)
    while True:
        with engine.connect() as conn:  # nothing left: no lock taken, no version spent
            if conn.execute(query.limit(1)).first() is None:
                return
        with engine.begin() as conn:
            bump_data_version(conn, org)
            ids = list(conn.execute(query.limit(batch)).scalars())
            if not ids:
                return
            yield conn, ids


def _delete_in_batches(engine: Engine, org: int, table, condition, batch: int) -> int:
    deleted = 0
    for conn, ids in _batches(engine, org, table, condition, batch):
        deleted += conn.execute(delete(table).where(table.id.in_(ids))).rowcount
    return deleted


def _clear_content(engine: Engine, org: int, days: tuple, records: int | None, batch: int) -> int:
    """Empty the content day by day: emptied rows stay in their day's index range, so a
    batch re-reads at most one day's rows, never the whole history."""
    horizon, since = days
    with engine.connect() as conn:
        first = conn.execute(
            select(func.min(Observation.start_day)).where(Observation.org_id == org)
        ).scalar()
    first = horizon if first is None else max(first, since if since is not None else first)
    cleared = 0
    for day in range(first, horizon):
        condition = and_(_content_rows(org, horizon, records, since), Observation.start_day == day)
        for conn, ids in _batches(engine, org, Observation, condition, batch):
            cleared += conn.execute(
                update(Observation).where(Observation.id.in_(ids)).values(**CLEARED_CONTENT)
            ).rowcount
    return cleared


def _store_horizons(conn: Connection, org: int, records: int | None, content: int | None) -> None:
    values = {}
    if records is not None:
        values["records_purged_before_day"] = records
    if content is not None:
        values["content_purged_before_day"] = content
    if values:
        conn.execute(update(RetentionPolicy).where(RetentionPolicy.org_id == org).values(**values))


def _daily_run(engine: Engine, _tick_us: int) -> None:
    run_retention(engine, actor="retention job")


# Once a day on one replica (telemetry.jobs); ``retention run`` does the same pass for cron.
RETENTION_JOB = Job("retention", 24 * 60 * 60, _daily_run, lease_s=6 * 60 * 60)


def purged_horizons(conn: Connection, slug: str) -> tuple[int | None, int | None]:
    """(records, content) horizons the runs reached for ``slug``: detail before them is gone."""
    row = conn.execute(
        select(RetentionPolicy.records_purged_before_day, RetentionPolicy.content_purged_before_day)
        .join(Organization, Organization.id == RetentionPolicy.org_id)
        .where(Organization.slug == slug)
    ).first()
    return (None, None) if row is None else (row[0], row[1])


def purge_notice(filters, horizons: tuple[int | None, int | None]) -> str:
    """What the pages say when the period reaches back past a purge ("" when it does not)."""
    records, content = horizons
    if records is not None and filters.start_day < records:
        return (
            f"Detail before {_iso(records)} was deleted by this organization's retention "
            "policy. Totals over those days (cards, charts, billing) still count it; lists "
            "of traces, sessions and users, percentiles and trace details start on "
            f"{_iso(records)}."
        )
    if content is not None and filters.start_day < content:
        return (
            f"Prompts, responses and tool arguments before {_iso(content)} were deleted by "
            "this organization's retention policy; the numbers are all kept."
        )
    return ""
