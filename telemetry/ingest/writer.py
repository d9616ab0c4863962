"""Store batches of records of one organization: one transaction per batch, idempotent.

Per transaction: lock the organization (its data-version row, bumped first, so
that writers of one organization take turns, in this process or another, and
every read below sees all committed spans), price LLM calls with the prices in
force now, apply user-directory entries, store the spans (``telemetry.ingest.spans``:
traces, observations, rollups), quarantine rejected records, store audit events.

Group commit: batches of the same organization that arrive while another is
being written (concurrent requests) wait for the writer and are then stored
together in the next transaction, by whichever of them gets the lock first.
Each batch is still all-or-nothing; fewer transactions mean fewer commits,
fewer rollup upserts and fewer pages written when many exporters send at once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import DBAPIError, OperationalError

from telemetry.ingest.directory import apply_directory
from telemetry.ingest.identities import Identities
from telemetry.ingest.limits import clip
from telemetry.ingest.mapping import price_generation
from telemetry.ingest.otlp import Rejection
from telemetry.ingest.quarantine import quarantine, store_audit_events
from telemetry.ingest.report import IngestCounts
from telemetry.ingest.scores import ScoreItem, attach_scores, event_scores, store_scores
from telemetry.ingest.spans import SpanStore
from telemetry.models import ApiKey, CostSource, OrgState
from telemetry.pricing import Pricer
from telemetry.rollup_tables import LLM_KINDS
from telemetry.store import bump_data_version, create_data_version_row, price_overrides
from telemetry.timeutil import now_us

_RETRIES = 3
PROVIDED = str(CostSource.PROVIDED)


@dataclass
class BatchOutcome(IngestCounts):
    """What one batch changed."""


@dataclass
class _Batch:
    """One writer's batch waiting to be stored, and what became of it."""

    writer: SpanWriter
    records: Sequence[dict[str, Any]]
    rejections: Sequence[Rejection]
    directory: Sequence[Any]
    audits: Sequence[dict[str, Any]]
    scores: Sequence[ScoreItem] = ()
    outcome: BatchOutcome | None = None
    error: BaseException | None = None

    @property
    def done(self) -> bool:
        return self.outcome is not None or self.error is not None


def _dedupe(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first record of each (trace id, span id)."""
    seen: set[tuple[str, str]] = set()
    unique = []
    for record in records:
        key = (record["trace_id"], record["span_id"])
        if key not in seen:
            seen.add(key)
            unique.append(record)
    return unique


def _retryable(error: DBAPIError) -> bool:
    text = str(error.orig).lower()
    return any(word in text for word in ("deadlock", "database is locked", "could not serialize"))


class SpanWriter:
    """Writes one organization's records, batch by batch, for one import or request."""

    def __init__(
        self,
        engine: Engine,
        org_id: int,
        *,
        source: str,
        api_key_id: int | None = None,
        identities: Identities | None = None,
        pricer: Pricer | None = None,
    ) -> None:
        self.engine = engine
        self.org_id = org_id
        self.source = clip(source, 1024)
        self.api_key_id = api_key_id
        # The pricer the records were mapped with (None: unknown, price every batch again),
        # and the one in force when the last batch was written.
        self.pricer = pricer
        self.current_pricer = pricer
        # Shared by writers of the same organization (one per request): cached ids, and
        # the queue of batches waiting for the organization's writer.
        self.identities = identities or Identities(org_id)

    def write(
        self,
        records: Sequence[dict[str, Any]] = (),
        rejections: Sequence[Rejection] = (),
        *,
        directory: Sequence[Any] = (),
        audits: Sequence[dict[str, Any]] = (),
        scores: Sequence[ScoreItem] = (),
    ) -> BatchOutcome:
        """Store one batch, all or nothing (retried on a deadlock or a locked database).

        If other batches of the organization are waiting when this one's turn comes,
        they are stored in the same transaction (see the module docstring).
        """
        batch = _Batch(self, records, rejections, directory, audits, scores)
        shared = self.identities
        with shared.waiting_lock:
            shared.waiting.append(batch)
        with shared.lock:
            if not batch.done:  # else an earlier writer stored it with its own
                with shared.waiting_lock:
                    group, shared.waiting = shared.waiting, []
                self._store_group(group)
        if batch.error is not None:
            raise batch.error
        return batch.outcome

    def _store_group(self, group: list[_Batch]) -> None:
        """Store the group in one transaction; if that fails, each batch in its own.

        So a batch the database refuses (a value it cannot store) fails alone, not the
        batches that happened to wait with it.
        """
        try:
            outcomes = self._with_retries(group)
        except OperationalError as error:  # the database is busy or down: for all of them
            for batch in group:
                batch.error = error
            return
        except Exception as error:
            if len(group) == 1:
                group[0].error = error
                return
            for batch in group:
                self._store_group([batch])
            return
        except BaseException as error:  # e.g. Ctrl-C: nothing more is tried
            for batch in group:
                batch.error = error
            return
        for batch, outcome in zip(group, outcomes, strict=True):
            batch.outcome = outcome

    def _with_retries(self, group: list[_Batch]) -> list[BatchOutcome]:
        for attempt in range(_RETRIES):
            try:
                return self._transaction(group)
            except OperationalError as error:
                self.identities.clear()
                if attempt + 1 == _RETRIES or not _retryable(error):
                    raise
                time.sleep(0.2 * (attempt + 1))
            except BaseException:
                self.identities.clear()
                raise
        raise AssertionError("unreachable")

    def _transaction(self, group: list[_Batch]) -> list[BatchOutcome]:
        if not self.identities.state_row_ready:
            self._create_state_row()
        with self.engine.connect() as conn, conn.begin() as transaction:
            version = self._lock_organization(conn)
            if conn.dialect.name == "sqlite" and not conn.connection.info.get("writer"):
                # A batch touches a few thousand index pages on a busy day: keep them in
                # this connection's cache (32 MB, only on connections that write) instead
                # of reading them back from the file at every batch (2 MB by default).
                conn.exec_driver_sql("PRAGMA cache_size=-32768")
                conn.connection.info["writer"] = True
            if conn.dialect.name == "postgresql":
                # psycopg prepares a statement run five times; PostgreSQL then reuses a
                # generic plan, blind to the values, and for "trace_id IN (500 ids)" that
                # plan scans the whole trace table: each batch read it again (most of the
                # time per span at 40k traces). The writer's statements are planned with
                # their values instead (forcing custom plans for the whole transaction
                # would also re-plan every foreign-key check: slower still).
                conn.connection.dbapi_connection.prepare_threshold = None
            outcomes, changed = self._write(conn, group)
            if changed:
                self.identities.version = version
            else:
                # Only duplicates: undo the version bump so the dashboard's caches stay valid.
                transaction.rollback()
                self.identities.version = version - 1
            return outcomes

    def _create_state_row(self) -> None:
        """Create the organization's data-version row if missing, in its own transaction.

        The batch's UPDATE of this row is what serialises writers; two writers racing
        to insert it would not be serialised, hence it exists before any batch.
        """
        query = select(OrgState.org_id).where(OrgState.org_id == self.org_id)
        with self.engine.begin() as conn:
            if conn.execute(query).first() is None:
                create_data_version_row(conn, self.org_id)
        self.identities.state_row_ready = True

    def _lock_organization(self, conn: Connection) -> int:
        """Bump the organization's data version; return it. Clears stale cached ids.

        The bump is the transaction's first statement, a write: it takes the
        organization's write lock before anything is read. A version other than the one
        this writer left plus one means someone else wrote since (another process, a
        directory import, a forgotten user): the cached ids may be stale. A full cache is
        emptied too.
        """
        version = bump_data_version(conn, self.org_id)
        identities = self.identities
        if identities.version is None or version != identities.version + 1 or identities.full:
            identities.clear()
        return version

    def _write(self, conn: Connection, group: list[_Batch]) -> tuple[list[BatchOutcome], bool]:
        """Store the group; one outcome per batch. The counts of traces, users, teams and
        audit events are the group's, reported on its first batch (they add up right)."""
        writes_before = self.identities.writes
        outcomes = [BatchOutcome(rejections=list(batch.rejections)) for batch in group]
        total = outcomes[0]
        for batch in group:
            if batch.directory:
                apply_directory(conn, self.identities, batch.directory, total)
        records = [record for batch in group for record in batch.records]
        stored: set[int] = set()
        if records:
            _price_under_lock(conn, self.org_id, group)
            stored = SpanStore(conn, self.org_id, self.identities).store(_dedupe(records), total)
        for batch, outcome in zip(group, outcomes, strict=True):
            outcome.spans_stored = sum(id(record) in stored for record in batch.records)
            outcome.duplicates = len(batch.records) - outcome.spans_stored
            _store_batch_scores(conn, self.org_id, batch, outcome, stored)
        quarantined = 0
        for batch, outcome in zip(group, outcomes, strict=True):
            refused = [*outcome.rejections, *outcome.score_rejections]
            if refused:
                source = batch.writer.source
                quarantined += quarantine(conn, self.org_id, source, refused)
            if batch.audits:
                total.audit_events += store_audit_events(conn, self.org_id, batch.audits)
        changed = bool(
            stored
            or any(outcome.scores_stored for outcome in outcomes)
            or total.traces_updated
            or total.users_created
            or total.users_updated
            or total.teams_created
            or total.audit_events
            or quarantined
            or self.identities.writes != writes_before
        )
        if changed:
            keys = {batch.writer.api_key_id for batch in group} - {None}
            for key in sorted(keys):
                conn.execute(update(ApiKey).where(ApiKey.id == key).values(last_used_us=now_us()))
        return outcomes, changed


def _store_batch_scores(
    conn: Connection, org_id: int, batch: _Batch, outcome: BatchOutcome, stored: set[int]
) -> None:
    """The batch's own scores, and those its newly stored spans carry as evaluation events."""
    written = [record for record in batch.records if id(record) in stored]
    carried, unreadable = event_scores(written)
    result = store_scores(conn, org_id, [*batch.scores, *carried])
    # Traces that arrive after their scores (or whose start moved) take them up now.
    attach_scores(conn, org_id, {record["trace_id"] for record in written})
    outcome.scores_stored = result.stored
    outcome.score_duplicates = result.duplicates
    outcome.score_rejections = [*unreadable, *result.rejections]


def _price_under_lock(conn: Connection, org_id: int, group: list[_Batch]) -> None:
    """Price the LLM calls with the organization's prices as they are now, under its lock.

    Mapping priced them earlier, outside any transaction; a price set (and stored
    calls re-priced) since then would leave these calls at the old price. Re-pricing
    takes the same lock, so one of the two always sees the other's prices.
    """
    current = price_overrides(conn, org_id)
    pricer = None
    for batch in group:
        writer = batch.writer
        if writer.pricer is not None and writer.pricer.has_prices(current):
            writer.current_pricer = writer.pricer
            continue
        pricer = pricer or Pricer(current)
        for record in batch.records:
            if record["kind"] in LLM_KINDS and record["cost_source"] != PROVIDED:
                price_generation(record, pricer, None)
        writer.current_pricer = pricer
