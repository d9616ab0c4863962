"""Store span records in the caller's transaction: traces, observations, rollups.

Creates the traces seen for the first time (summary from the batch's spans),
recomputes traces that already existed from all their stored spans plus the new
ones (``telemetry.derive.summarize_trace``, so spans arriving in any order give
the same trace row), inserts the new observations, keeps users' first/last trace
times and applies the batch's changes to the daily rollups
(``telemetry.rollup_deltas``: the shares of the rows written are added, those of
the rows they replace taken back). A span already stored (same trace id + span
id) is skipped and changes nothing. An LLM call reported twice is marked a
duplicate (``telemetry.duplicates``) over all the trace's spans, stored and new,
so a late outer or inner span takes back what its copy had added.

Observations carry their trace's user, team, session and environment (so totals
by team agree whether summed over traces or observations); module and agent are
the span's own when it names them, else the trace's.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Sequence

from sqlalchemy import Connection, select

from telemetry.bulk import insert_rows, is_postgresql, quoted_names, rows_source, run_for_rows
from telemetry.derive import summarize_trace
from telemetry.duplicates import mark_duplicates
from telemetry.ingest.identities import Identities, one_of, rows_in
from telemetry.ingest.report import IngestCounts
from telemetry.ingest.statements import (
    TRACE_DIMENSIONS,
    WIDEN_USER_TIMES_POSTGRESQL,
    duplicate_update,
    to_json,
    trace_dimensions_update,
    trace_update,
    widen_user_times,
)
from telemetry.models import Observation, Trace
from telemetry.rollup_deltas import RollupDelta
from telemetry.rollup_tables import ROLLED_UP_KINDS
from telemetry.store import TRACE_PKS_POSTGRESQL

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
    Observation.duplicate_of,
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
# PostgreSQL: from this many new traces on, COPY (three round trips, C formatting) beats
# one INSERT ... RETURNING (one round trip, Python dumping): measured with
# bench/bench_ingest.py, one exporter's 100 traces a request went 10.7k -> 10.1k spans/s
# by COPY, four exporters' grouped requests 11.6k -> 12.7k and the file import 46 -> 38
# us of CPU per span.
_COPY_TRACES_FROM = 200
# PostgreSQL: ``n`` new trace ids (gaps are harmless: ids only need to be unique).
_NEXT_TRACE_IDS = (
    "SELECT nextval(pg_get_serial_sequence('trace', 'id')) FROM generate_series(1, %s)"
)


def _following_ids(conn: Connection, table: str, count: int) -> range:
    """SQLite, under the write lock: ``count`` ids after the largest in ``table``."""
    largest = conn.exec_driver_sql(f'SELECT max(id) FROM "{table}"').scalar()
    return range((largest or 0) + 1, (largest or 0) + 1 + count)


def stored_trace_pks(conn: Connection, org_id: int, trace_ids: Sequence[str]) -> dict[str, int]:
    """Row id by trace id, of the organization's stored traces among ``trace_ids``."""
    if is_postgresql(conn):
        result = conn.exec_driver_sql(TRACE_PKS_POSTGRESQL, (list(trace_ids), org_id))
        return dict(result.all())
    query = select(Trace.trace_id, Trace.id).where(Trace.org_id == org_id, one_of(Trace.trace_id))
    return {trace_id: pk for trace_id, pk in rows_in(conn, query, trace_ids)}


class SpanStore:
    """Writes span records into one organization, inside the caller's transaction."""

    def __init__(self, conn: Connection, org_id: int, identities: Identities) -> None:
        self.conn = conn
        self.org_id = org_id
        self.identities = identities

    def store(self, records: list[dict], outcome: IngestCounts) -> set[int]:
        """Store ``records`` (each trace id + span id once); return ``id()`` of those stored."""
        conn = self.conn
        outcome.users_created += self.identities.resolve(conn, records)
        by_trace: dict[str, list[dict]] = {}
        for record in records:
            by_trace.setdefault(record["trace_id"], []).append(record)

        existing = stored_trace_pks(conn, self.org_id, list(by_trace))
        new_summaries = {}
        for trace_id, spans in by_trace.items():
            if trace_id not in existing:
                mark_duplicates(spans)
                new_summaries[trace_id] = summarize_trace(spans)
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
        updates, moved, remarked = self._merge_into_existing(
            conn, existing, by_trace, pending, rollups
        )
        outcome.traces_updated = len(updates)
        touched.extend(summary for _pk, summary in updates)

        self._insert_observations(conn, pending, rollups)
        self._update_traces(conn, updates)
        self._move_observations(conn, moved)
        self._mark_stored_duplicates(conn, remarked)
        self._update_user_times(conn, touched)
        rollups.apply(conn, self.org_id)
        return {id(record) for _pk, _summary, record in pending}

    def _create_traces(self, conn: Connection, summaries: dict[str, dict]) -> dict[str, int]:
        if not summaries:
            return {}
        columns = ("org_id", "trace_id", *next(iter(summaries.values())))
        postgresql = is_postgresql(conn)
        if not postgresql or len(summaries) >= _COPY_TRACES_FROM:
            # The ids first, then the rows with them: nothing to read back.
            #  PostgreSQL: taken from the table's sequence in one round trip; the rows go
            # by COPY (formatted in C; an INSERT ... RETURNING over arrays dumps every value
            # in Python).
            #  SQLite: the writer holds the database's write lock, so the ids after the
            # largest one are free (SQLite would pick the same ones).
            ids = (
                conn.exec_driver_sql(_NEXT_TRACE_IDS, (len(summaries),)).scalars().all()
                if postgresql
                else _following_ids(conn, "trace", len(summaries))
            )
            rows = [
                (pk, self.org_id, trace_id, *s.values())
                for pk, (trace_id, s) in zip(ids, summaries.items(), strict=True)
            ]
            insert_rows(conn, "trace", ("id", *columns), rows)
            return dict(zip(summaries, ids, strict=True))
        # PostgreSQL, a few traces: one statement, which gives the new ids back.
        rows = [(self.org_id, trace_id, *s.values()) for trace_id, s in summaries.items()]
        names = quoted_names(columns)
        sql = f'INSERT INTO "trace" ({names}) {rows_source(conn, Trace.__table__, columns)}'
        return dict(run_for_rows(conn, sql + " RETURNING trace_id, id", rows).all())

    def _merge_into_existing(self, conn, existing, by_trace, pending, rollups):
        """Recompute traces that already had spans; queue their new spans for insertion.

        Returns the traces to update, those whose older observations move to the
        trace's new user/team/session/environment, and the older observations newly
        marked as duplicates. Records in ``rollups`` the shares of the trace rows and
        observations as stored now (leaving) and as they will be.
        """
        if not existing:
            return [], [], []
        stored = self._stored_spans(conn, list(existing.values()))
        updates = []
        moved = []
        remarked = []
        for trace_id, pk in existing.items():
            old = stored.get(pk, [])
            seen = {span["span_id"] for span in old}
            fresh = [r for r in by_trace[trace_id] if r["span_id"] not in seen]
            if not fresh:
                continue  # nothing new: the trace row stays exactly as it was
            kinds_before = [span["kind"] for span in old]
            changed = mark_duplicates(old + fresh)
            summary = summarize_trace(old + fresh)
            updates.append((pk, summary))
            rollups.add_trace(summary)
            dimensions = {f: summary[f] for f in TRACE_DIMENSIONS}
            dimensions_moved = any(
                span[f] != dimensions[f] for span in old for f in TRACE_DIMENSIONS
            )
            if dimensions_moved:
                moved.append((pk, summary))
            for span, kind_before in zip(old, kinds_before, strict=True):
                if id(span) in changed:
                    remarked.append((pk, span))
                if not dimensions_moved and kind_before == span["kind"]:
                    continue
                if kind_before in ROLLED_UP_KINDS:  # its shares as stored leave
                    rollups.remove_observation({**span, "kind": kind_before})
                if span["kind"] in ROLLED_UP_KINDS:
                    rollups.add_observation({**span, **dimensions})
            pending.extend((pk, summary, record) for record in fresh)
        for row in self._stored_traces(conn, [pk for pk, _summary in updates]):
            rollups.remove_trace(row)
        return updates, moved, remarked

    def _stored_traces(self, conn: Connection, pks: Sequence[int]) -> list[dict]:
        query = select(Trace).where(one_of(Trace.id))
        return [row._asdict() for row in rows_in(conn, query, pks)]

    def _stored_spans(self, conn: Connection, pks: Sequence[int]) -> dict[int, list[dict]]:
        spans: dict[int, list[dict]] = {}
        query = select(*_STORED_SPAN_COLUMNS).where(one_of(Observation.trace_pk))
        for row in rows_in(conn, query, pks):
            span = row._asdict()
            spans.setdefault(span["trace_pk"], []).append(span)
        return spans

    def _mark_stored_duplicates(self, conn: Connection, remarked: list[tuple[int, dict]]) -> None:
        """Stored LLM calls that a span of this batch shows to be duplicates."""
        if not remarked:
            return
        rows = [
            {"b_pk": pk, "b_span": s["span_id"], "b_kind": s["kind"], "b_of": s["duplicate_of"]}
            for pk, s in remarked
        ]
        conn.execute(duplicate_update(), rows)

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
        insert_rows(
            conn,
            "observation",
            _INSERTED_COLUMNS,
            self._observation_rows(pending, rollups),
            ignore_duplicates=True,
        )

    def _observation_rows(
        self, pending: list[tuple[int, dict, dict]], rollups: RollupDelta
    ) -> Iterator[tuple]:
        """The rows to insert, each built as it is sent (on PostgreSQL the server stores
        the first rows of a COPY while the next are built), and their rollup shares."""
        org = self.org_id
        copied = _copied_values
        for pk, summary, record in pending:
            module = record["module"] or summary["module"]
            agent = record["agent"] or summary["agent"]
            yield (
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
        if is_postgresql(conn):
            ids = list(spans)
            firsts, lasts = [spans[uid][0] for uid in ids], [spans[uid][1] for uid in ids]
            conn.exec_driver_sql(WIDEN_USER_TIMES_POSTGRESQL, (ids, firsts, lasts))
            return
        rows = [{"b_id": uid, "b_first": lo, "b_last": hi} for uid, (lo, hi) in spans.items()]
        conn.execute(widen_user_times(), rows)
