"""Store batches of observation records: one transaction per batch, idempotent.

Per batch: lock the organization (its data-version row, bumped first, so that
writers of one organization take turns and every read below sees all committed
spans), resolve users/teams/sessions, create the traces seen for the first time
(summary from the batch's spans), recompute traces that already existed from
all their stored spans plus the new ones (``telemetry.derive.summarize_trace``,
so spans arriving in any order give the same trace row), insert the new
observations, keep users' first/last trace times, apply the batch's changes to
the daily rollups (``telemetry.rollup_deltas``: the shares of the rows written
are added, those of the rows they replace taken back), quarantine rejected
records.
A span already stored (same trace id + span id) is skipped and changes nothing.

Observations carry their trace's user, team, session and environment (so totals
by team agree whether summed over traces or observations); module and agent are
the span's own when it names them, else the trace's.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.exc import DBAPIError, OperationalError

from telemetry.bulk import insert_rows, is_postgresql, rows_source, run_for_rows
from telemetry.derive import summarize_trace
from telemetry.ingest.directory import apply_directory
from telemetry.ingest.identities import Identities, listed, rows_in
from telemetry.ingest.limits import clip
from telemetry.ingest.mapping import price_generation
from telemetry.ingest.otlp import Rejection
from telemetry.ingest.quarantine import quarantine, store_audit_events
from telemetry.ingest.report import IngestCounts
from telemetry.ingest.statements import (
    TRACE_DIMENSIONS,
    to_json,
    trace_dimensions_update,
    trace_update,
    widen_user_times,
)
from telemetry.models import ApiKey, CostSource, Observation, OrgState, Trace
from telemetry.pricing import Pricer
from telemetry.rollup_deltas import RollupDelta
from telemetry.rollup_tables import LLM_KINDS, ROLLED_UP_KINDS
from telemetry.store import bump_data_version, insert_ignoring_duplicates, price_overrides
from telemetry.timeutil import now_us

_OBSERVATION_COLUMNS = tuple(
    c.name for c in Observation.__table__.columns if c.name not in ("id", "org_id", "trace_pk")
)
_COPIED = tuple(
    c
    for c in _OBSERVATION_COLUMNS
    if c not in (*TRACE_DIMENSIONS, "module", "agent", "attributes", "events")
)
_STORED_SPAN_COLUMNS = (
    Observation.trace_pk,
    Observation.span_id,
    Observation.parent_span_id,
    Observation.name,
    Observation.kind,
    Observation.status,
    Observation.status_message,
    Observation.error_type,
    Observation.start_us,
    Observation.end_us,
    Observation.user_id,
    Observation.team_id,
    Observation.session_id,
    Observation.environment,
    Observation.module,
    Observation.agent,
    Observation.input_tokens,
    Observation.output_tokens,
    Observation.cache_read_tokens,
    Observation.cache_write_tokens,
    Observation.reasoning_tokens,
    Observation.cost_usd,
    Observation.attributes,
    # what the rollups of LLM and tool calls key on besides the above
    Observation.start_day,
    Observation.provider,
    Observation.model,
    Observation.cost_source,
    Observation.tool_type,
    Observation.tool_name,
)
_INSERTED_COLUMNS = (
    "org_id",
    "trace_pk",
    *_COPIED,
    *TRACE_DIMENSIONS,
    "module",
    "agent",
    "attributes",
    "events",
)
_copied_values = operator.itemgetter(*_COPIED)
_RETRIES = 3
PROVIDED = str(CostSource.PROVIDED)


@dataclass
class BatchOutcome(IngestCounts):
    """What one batch changed."""


def _dedupe(records: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The first record of each (trace id, span id), and how many repeats were dropped."""
    seen: set[tuple[str, str]] = set()
    unique = []
    for record in records:
        key = (record["trace_id"], record["span_id"])
        if key not in seen:
            seen.add(key)
            unique.append(record)
    return unique, len(records) - len(unique)


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
        # Shared by writers of the same organization (one per request) to keep ids cached.
        self.identities = identities or Identities(org_id)

    def write(
        self,
        records: Sequence[dict[str, Any]] = (),
        rejections: Sequence[Rejection] = (),
        *,
        directory: Sequence[Any] = (),
        audits: Sequence[dict[str, Any]] = (),
    ) -> BatchOutcome:
        """Store one batch in one transaction (retried on a deadlock or a locked database)."""
        with self.identities.lock:
            for attempt in range(_RETRIES):
                try:
                    return self._transaction(records, rejections, directory, audits)
                except OperationalError as error:
                    self.identities.clear()
                    if attempt + 1 == _RETRIES or not _retryable(error):
                        raise
                    time.sleep(0.2 * (attempt + 1))
                except BaseException:
                    self.identities.clear()
                    raise
        raise AssertionError("unreachable")

    def _transaction(self, records, rejections, directory, audits) -> BatchOutcome:
        if not self.identities.state_row_ready:
            self._create_state_row()
        with self.engine.connect() as conn, conn.begin() as transaction:
            version = self._lock_organization(conn)
            outcome, changed = self._write(conn, records, rejections, directory, audits)
            if changed:
                self.identities.version = version
            else:
                # Only duplicates: undo the version bump so the dashboard's caches stay valid.
                transaction.rollback()
                self.identities.version = version - 1
            return outcome

    def _create_state_row(self) -> None:
        """Create the organization's data-version row if missing, in its own transaction.

        The batch's UPDATE of this row is what serialises writers; two writers racing
        to insert it would not be serialised, hence it exists before any batch.
        """
        query = select(OrgState.org_id).where(OrgState.org_id == self.org_id)
        with self.engine.begin() as conn:
            if conn.execute(query).first() is None:
                row = {"org_id": self.org_id, "data_version": 0, "updated_us": now_us()}
                insert_ignoring_duplicates(conn, OrgState.__table__, [row])
        self.identities.state_row_ready = True

    def _lock_organization(self, conn: Connection) -> int:
        """Bump the organization's data version; return it. Clears stale cached ids.

        As the first statement is a write, it takes the organization's write lock (a
        row lock on PostgreSQL, the database lock on SQLite) before anything is read.
        A version other than the one this writer left means someone else wrote since
        (another process, a directory import): the cached ids may be stale.
        """
        bump_data_version(conn, self.org_id)
        version = conn.execute(
            select(OrgState.data_version).where(OrgState.org_id == self.org_id)
        ).scalar_one()
        if self.identities.version is None or version != self.identities.version + 1:
            self.identities.clear()
        return version

    def _write(self, conn, records, rejections, directory, audits) -> tuple[BatchOutcome, bool]:
        writes_before = self.identities.writes
        outcome = BatchOutcome(rejections=list(rejections))
        quarantined = 0
        if directory:
            apply_directory(conn, self.identities, directory, outcome)
        unique, repeated = _dedupe(records)
        outcome.duplicates += repeated
        if unique:
            self._write_spans(conn, unique, outcome)
        if outcome.rejections:
            quarantined = quarantine(conn, self.org_id, self.source, outcome.rejections)
        if audits:
            outcome.audit_events = store_audit_events(conn, self.org_id, audits)
        changed = bool(
            outcome.spans_stored
            or outcome.traces_updated
            or outcome.users_created
            or outcome.users_updated
            or outcome.teams_created
            or outcome.audit_events
            or quarantined
            or self.identities.writes != writes_before
        )
        if changed and self.api_key_id is not None:
            conn.execute(
                update(ApiKey).where(ApiKey.id == self.api_key_id).values(last_used_us=now_us())
            )
        return outcome, changed

    # --- spans and traces -----------------------------------------------------

    def _write_spans(self, conn: Connection, records: list[dict], outcome: BatchOutcome) -> None:
        self._price_under_lock(conn, records)
        outcome.users_created += self.identities.resolve(conn, records)
        by_trace: dict[str, list[dict]] = {}
        for record in records:
            by_trace.setdefault(record["trace_id"], []).append(record)

        existing = self._trace_pks(conn, list(by_trace))
        new_summaries = {
            trace_id: summarize_trace(spans)
            for trace_id, spans in by_trace.items()
            if trace_id not in existing
        }
        created = self._create_traces(conn, new_summaries)
        outcome.traces_created = len(created)

        rollups = RollupDelta()
        pending: list[tuple[int, dict, dict]] = []  # (trace pk, trace summary, record)
        touched: list[dict] = []
        for trace_id, pk in created.items():
            summary = new_summaries[trace_id]
            touched.append(summary)
            rollups.add_trace(summary)
            pending.extend((pk, summary, record) for record in by_trace[trace_id])
        updates, moved = self._merge_into_existing(
            conn, existing, by_trace, outcome, pending, rollups
        )
        outcome.traces_updated = len(updates)
        touched.extend(summary for _pk, summary in updates)

        self._insert_observations(conn, pending, rollups)
        outcome.spans_stored = len(pending)
        self._update_traces(conn, updates)
        self._move_observations(conn, moved)
        self._update_user_times(conn, touched)
        rollups.apply(conn, self.org_id)

    def _price_under_lock(self, conn: Connection, records: list[dict]) -> None:
        """Price the LLM calls with the organization's prices as they are now, under its lock.

        Mapping priced them earlier, outside any transaction; a price set (and stored
        calls re-priced) since then would leave these calls at the old price. Re-pricing
        takes the same lock, so one of the two always sees the other's prices.
        """
        current = price_overrides(conn, self.org_id)
        if self.pricer is not None and self.pricer.has_prices(current):
            self.current_pricer = self.pricer
            return
        pricer = Pricer(current)
        for record in records:
            if record["kind"] in LLM_KINDS and record["cost_source"] != PROVIDED:
                price_generation(record, pricer, None)
        self.current_pricer = pricer

    def _trace_pks(self, conn: Connection, trace_ids: Sequence[str]) -> dict[str, int]:
        query = select(Trace.trace_id, Trace.id).where(
            Trace.org_id == self.org_id, Trace.trace_id.in_(listed())
        )
        return {trace_id: pk for trace_id, pk in rows_in(conn, query, trace_ids)}

    def _create_traces(self, conn: Connection, summaries: dict[str, dict]) -> dict[str, int]:
        if not summaries:
            return {}
        columns = ("org_id", "trace_id", *next(iter(summaries.values())))
        rows = [(self.org_id, trace_id, *s.values()) for trace_id, s in summaries.items()]
        names = ", ".join(f'"{c}"' for c in columns)
        sql = f'INSERT INTO "trace" ({names}) {rows_source(conn, Trace.__table__, columns)}'
        if is_postgresql(conn):  # one statement, which gives the new ids back
            return dict(run_for_rows(conn, sql + " RETURNING trace_id, id", rows).all())
        run_for_rows(conn, sql, rows)
        return self._trace_pks(conn, list(summaries))

    def _merge_into_existing(self, conn, existing, by_trace, outcome, pending, rollups):
        """Recompute traces that already had spans; queue their new spans for insertion.

        Returns the traces to update and those whose older observations move to the
        trace's new user/team/session/environment. Records in ``rollups`` the shares
        of the trace rows and observations as stored now (leaving) and as they will be.
        """
        if not existing:
            return [], []
        stored = self._stored_spans(conn, list(existing.values()))
        updates = []
        moved = []
        for trace_id, pk in existing.items():
            old = stored.get(pk, [])
            seen = {span["span_id"] for span in old}
            fresh = [r for r in by_trace[trace_id] if r["span_id"] not in seen]
            outcome.duplicates += len(by_trace[trace_id]) - len(fresh)
            if not fresh:
                continue  # nothing new: the trace row stays exactly as it was
            summary = summarize_trace(old + fresh)
            updates.append((pk, summary))
            rollups.add_trace(summary)
            dimensions = {f: summary[f] for f in TRACE_DIMENSIONS}
            if any(span[f] != dimensions[f] for span in old for f in TRACE_DIMENSIONS):
                moved.append((pk, summary))
                for span in old:
                    if span["kind"] in ROLLED_UP_KINDS:
                        rollups.remove_observation(span)
                        rollups.add_observation({**span, **dimensions})
            pending.extend((pk, summary, record) for record in fresh)
        for row in self._stored_traces(conn, [pk for pk, _summary in updates]):
            rollups.remove_trace(row)
        return updates, moved

    def _stored_traces(self, conn: Connection, pks: Sequence[int]) -> list[dict]:
        query = select(Trace).where(Trace.id.in_(listed()))
        return [row._asdict() for row in rows_in(conn, query, pks)]

    def _stored_spans(self, conn: Connection, pks: Sequence[int]) -> dict[int, list[dict]]:
        spans: dict[int, list[dict]] = {}
        query = select(*_STORED_SPAN_COLUMNS).where(Observation.trace_pk.in_(listed()))
        for row in rows_in(conn, query, pks):
            span = row._asdict()
            spans.setdefault(span["trace_pk"], []).append(span)
        return spans

    def _move_observations(self, conn: Connection, moved: list[tuple[int, dict]]) -> None:
        """Older spans of a trace whose user/team/session/environment changed follow it."""
        if not moved:
            return
        statement = trace_dimensions_update()
        rows = [{"b_pk": pk, **{f"b_{f}": s[f] for f in TRACE_DIMENSIONS}} for pk, s in moved]
        conn.execute(statement, rows)

    def _insert_observations(
        self, conn: Connection, pending: list[tuple[int, dict, dict]], rollups: RollupDelta
    ) -> None:
        if not pending:
            return
        org = self.org_id
        copied = _copied_values
        rows = []
        for pk, summary, record in pending:
            module = record["module"] or summary["module"]
            agent = record["agent"] or summary["agent"]
            rows.append(
                (
                    org,
                    pk,
                    *copied(record),
                    summary["user_id"],
                    summary["team_id"],
                    summary["session_id"],
                    summary["environment"],
                    module,
                    agent,
                    to_json(record["attributes"]),
                    to_json(record["events"]) if record["events"] else "[]",
                )
            )
            if record["kind"] in ROLLED_UP_KINDS:  # the row as stored, for its rollup shares
                rollups.add_observation(
                    dict(
                        record,
                        user_id=summary["user_id"],
                        team_id=summary["team_id"],
                        environment=summary["environment"],
                        module=module,
                        agent=agent,
                    )
                )
        insert_rows(conn, "observation", _INSERTED_COLUMNS, rows, ignore_duplicates=True)

    def _update_traces(self, conn: Connection, updates: list[tuple[int, dict]]) -> None:
        if not updates:
            return
        columns = tuple(updates[0][1])
        rows = [{"b_pk": pk, **{f"b_{c}": s[c] for c in columns}} for pk, s in updates]
        conn.execute(trace_update(columns), rows)

    def _update_user_times(self, conn: Connection, summaries: list[dict]) -> None:
        """Widen users' first/last trace start to cover the traces just written."""
        spans: dict[int, tuple[int, int]] = {}
        for summary in summaries:
            user_id = summary["user_id"]
            if user_id is None:
                continue
            start = summary["start_us"]
            low, high = spans.get(user_id, (start, start))
            spans[user_id] = (min(low, start), max(high, start))
        if not spans:
            return
        rows = [{"b_id": uid, "b_first": lo, "b_last": hi} for uid, (lo, hi) in spans.items()]
        conn.execute(widen_user_times(), rows)
