"""Store scores in the writer's transaction, and read them out of OTLP evaluation events.

Every way in (OTLP ``gen_ai.evaluation.result`` span events, ``POST /api/scores``,
JSONL ``"type": "score"`` lines, ``telemetry.score``) ends in :func:`store_scores`,
called once per batch by :class:`telemetry.ingest.writer.SpanWriter` under the
organization's lock: configured names are enforced, a score whose key is already
stored changes nothing, and each trace's ``trace_quality`` row (latest verdict,
reviewed or not) is brought up to date.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, or_, select, text, update

from telemetry.ingest.identities import one_of, rows_in
from telemetry.ingest.otlp import Rejection
from telemetry.ingest.spans import stored_trace_pks
from telemetry.models import Score, ScoreSource, Trace, TraceQuality
from telemetry.scores import (
    AUTHOR_MAX,
    COMMENT_MAX,
    SOURCES,
    ScoreError,
    ScoreRules,
    finish_score,
    is_positive,
    score_rules,
)
from telemetry.timeutil import now_us

EVALUATION_EVENT = "gen_ai.evaluation.result"
EVALUATION_NAME = "gen_ai.evaluation.name"
EVALUATION_VALUE = "gen_ai.evaluation.score.value"
EVALUATION_LABEL = "gen_ai.evaluation.score.label"
EVALUATION_EXPLANATION = "gen_ai.evaluation.explanation"
# Not in the convention: lets a sender say a score is not an LLM judge's.
EVALUATION_SOURCE = "gen_ai.evaluation.source"


@dataclass(slots=True)
class ScoreItem:
    """A score read from some input, with where it came from (for rejections)."""

    location: str
    score: dict[str, Any]
    raw: str = ""


@dataclass
class ScoreOutcome:
    stored: int = 0
    duplicates: int = 0
    rejections: list[Rejection] | None = None


def event_scores(records: Iterable[dict[str, Any]]) -> tuple[list[ScoreItem], list[Rejection]]:
    """The scores carried by spans as ``gen_ai.evaluation.result`` events (source ``llm``)."""
    items: list[ScoreItem] = []
    rejections: list[Rejection] = []
    for record in records:
        for index, event in enumerate(record["events"]):
            if event["name"] != EVALUATION_EVENT:
                continue
            location = (
                f"trace {record['trace_id']} span {record['span_id']} "
                f"events[{index}] {EVALUATION_EVENT}"
            )
            try:
                items.append(ScoreItem(location, _event_score(record, index, event)))
            except ScoreError as error:
                rejections.append(Rejection(location, str(error), str(event["attributes"])))
    return items, rejections


def _event_score(record: dict[str, Any], index: int, event: dict[str, Any]) -> dict[str, Any]:
    return evaluation_score(
        event["attributes"],
        trace_id=record["trace_id"],
        span_id=record["span_id"],
        time_us=event["time_us"] or record["start_us"],
        author=record["module"] or "otlp",
        origin=str(index),
    )


def evaluation_score(
    attributes: dict[str, Any],
    *,
    trace_id: str,
    span_id: str,
    time_us: int,
    author: str,
    origin: str,
    whole: bool = False,
) -> dict[str, Any]:
    """The score of a ``gen_ai.evaluation.result`` event (a span's event or a log record).

    Its key derives from the span and ``origin`` (which event of it), and unless
    ``whole`` (``origin`` then identifies the event entirely) from the name and the
    time: the same event sent again is stored once. Raises :class:`ScoreError`.
    """
    name = attributes.get(EVALUATION_NAME)
    if not isinstance(name, str) or not name.strip():
        raise ScoreError(f"{EVALUATION_NAME} is missing")
    value = attributes.get(EVALUATION_VALUE)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ScoreError(f"{EVALUATION_VALUE} must be a number, not {value!r}")
    try:
        value = None if value is None else float(value)
    except OverflowError:  # an integer beyond any float
        value = math.inf
    if value is not None and not math.isfinite(value):
        raise ScoreError(f"{EVALUATION_VALUE} must be a finite number, not {str(value)[:40]}")
    label = attributes.get(EVALUATION_LABEL)
    source = attributes.get(EVALUATION_SOURCE) or ScoreSource.LLM
    if source not in SOURCES:
        raise ScoreError(f"{EVALUATION_SOURCE} must be one of {', '.join(SOURCES)}")
    comment = attributes.get(EVALUATION_EXPLANATION)
    score = {
        "trace_id": trace_id,
        "span_id": span_id,
        "session_key": "",
        "name": name.strip()[:100],
        "value": value,
        "label": str(label).strip()[:100] if label is not None else "",
        "comment": str(comment)[:COMMENT_MAX] if comment is not None else "",
        "source": str(source),
        "author": author[:AUTHOR_MAX],
        "time_us": time_us,
    }
    seed = f"{trace_id}:{span_id}:{origin}"
    if not whole:
        seed += f":{score['name']}:{time_us}"
    return finish_score(score, "otel:" + hashlib.sha256(seed.encode()).hexdigest()[:40])


def store_scores(conn: Connection, org_id: int, items: Sequence[ScoreItem]) -> ScoreOutcome:
    """Store the scores the organization accepts; the others come back as rejections."""
    outcome = ScoreOutcome(rejections=[])
    if not items:
        return outcome
    rules = score_rules(conn, org_id)
    fresh: dict[str, dict[str, Any]] = {}
    for item in items:
        problem = rules.problem(item.score)
        if problem:
            outcome.rejections.append(Rejection(item.location, problem, item.raw))
        elif item.score["score_key"] in fresh:
            outcome.duplicates += 1
        else:
            fresh[item.score["score_key"]] = item.score
    query = select(Score.score_key).where(Score.org_id == org_id, one_of(Score.score_key))
    for (key,) in rows_in(conn, query, list(fresh)):
        fresh.pop(key, None)
        outcome.duplicates += 1
    if not fresh:
        return outcome
    created = now_us()
    rows = [{**score, "org_id": org_id, "created_us": created} for score in fresh.values()]
    statement = insert(Score).returning(Score.id, sort_by_parameter_order=True)
    ids = conn.execute(statement, rows).scalars().all()
    update_trace_quality(conn, org_id, rules, zip(ids, rows, strict=True))
    attach_scores(conn, org_id, {row["trace_id"] for row in rows if row["trace_id"]})
    outcome.stored = len(rows)
    return outcome


def attach_scores(conn: Connection, org_id: int, trace_ids: Iterable[str]) -> None:
    """Bring the stored traces among ``trace_ids`` in step with their scores.

    The trace row gets its latest verdict and reviewed mark; its scores get the
    trace's row id and start day. Called when scores are stored and when spans of
    a trace are (a trace that arrives after its scores, or whose start moved).
    """
    wanted = sorted(set(trace_ids))
    if not wanted:
        return
    query = select(TraceQuality.trace_id, TraceQuality.positive, TraceQuality.reviewed).where(
        TraceQuality.org_id == org_id, one_of(TraceQuality.trace_id)
    )
    quality = {row[0]: (row[1], row[2] or None) for row in rows_in(conn, query, wanted)}
    if not quality:
        return
    # By row id: the trace ids are looked up the way the writer does (stored_trace_pks).
    pks = stored_trace_pks(conn, org_id, sorted(quality))
    query = select(Trace.id, Trace.trace_id, Trace.start_day, Trace.verdict, Trace.reviewed).where(
        one_of(Trace.id)
    )
    trace_rows, score_rows = [], []
    for pk, trace_id, day, verdict, reviewed in rows_in(conn, query, sorted(pks.values())):
        if (verdict, reviewed) != quality[trace_id]:
            positive, marked = quality[trace_id]
            trace_rows.append({"b_pk": pk, "b_verdict": positive, "b_reviewed": marked})
        score_rows.append({"b_org": org_id, "b_trace": trace_id, "b_pk": pk, "b_day": day})
    if trace_rows:
        conn.execute(_SET_VERDICT, trace_rows)
    if score_rows:
        conn.execute(_ATTACH_SCORES, score_rows)


_SET_VERDICT = (
    update(Trace)
    .where(Trace.id == bindparam("b_pk"))
    .values(verdict=bindparam("b_verdict"), reviewed=bindparam("b_reviewed"))
)
_ATTACH_SCORES = (
    update(Score)
    .where(
        Score.org_id == bindparam("b_org"),
        Score.trace_id == bindparam("b_trace"),
        or_(
            Score.trace_pk.is_(None),
            Score.trace_pk != bindparam("b_pk"),
            Score.trace_day != bindparam("b_day"),
        ),
    )
    .values(trace_pk=bindparam("b_pk"), trace_day=bindparam("b_day"))
)


_UPSERT_QUALITY = """
INSERT INTO trace_quality
    (org_id, trace_id, verdict_score_id, verdict_time_us, positive, reviewed, scores)
VALUES (:org_id, :trace_id, :verdict_score_id, :verdict_time_us, :positive, :reviewed, 1)
ON CONFLICT (org_id, trace_id) DO UPDATE SET
    verdict_score_id = CASE WHEN {newer} THEN excluded.verdict_score_id
                       ELSE trace_quality.verdict_score_id END,
    verdict_time_us = CASE WHEN {newer} THEN excluded.verdict_time_us
                      ELSE trace_quality.verdict_time_us END,
    positive = CASE WHEN {newer} THEN excluded.positive ELSE trace_quality.positive END,
    reviewed = CASE WHEN excluded.reviewed = 1 THEN 1 ELSE trace_quality.reviewed END,
    scores = trace_quality.scores + 1
"""
# The latest verdict is the one with the greatest (time, id): a score sent late with an
# older time does not override a newer verdict.
_NEWER = (
    "(excluded.verdict_score_id IS NOT NULL AND (trace_quality.verdict_score_id IS NULL"
    " OR excluded.verdict_time_us > trace_quality.verdict_time_us"
    " OR (excluded.verdict_time_us = trace_quality.verdict_time_us"
    " AND excluded.verdict_score_id > trace_quality.verdict_score_id)))"
)
UPSERT_QUALITY = text(_UPSERT_QUALITY.format(newer=_NEWER))


def update_trace_quality(
    conn: Connection, org_id: int, rules: ScoreRules, scores: Iterable[tuple[int, dict[str, Any]]]
) -> None:
    """Fold newly stored scores (id, row) into their traces' ``trace_quality`` rows."""
    rows = []
    for score_id, score in scores:
        if not score["trace_id"]:
            continue  # a session's score: no trace row to keep
        verdict = rules.is_verdict(score["name"])
        rows.append(
            {
                "org_id": org_id,
                "trace_id": score["trace_id"],
                "verdict_score_id": score_id if verdict else None,
                "verdict_time_us": score["time_us"] if verdict else None,
                "positive": int(is_positive(score["label"], score["value"])) if verdict else None,
                "reviewed": int(score["source"] == ScoreSource.HUMAN),
            }
        )
    if rows:
        conn.execute(UPSERT_QUALITY, rows)


def rebuild_trace_quality(conn: Connection, org_id: int) -> None:
    """Recompute every ``trace_quality`` row of the organization from its scores.

    Needed when the verdict names change (a score config marked or unmarked as one).
    """
    conn.execute(delete(TraceQuality).where(TraceQuality.org_id == org_id))
    columns = (Score.id, Score.trace_id, Score.name, Score.value, Score.label, Score.source)
    query = (
        select(*columns, Score.time_us)
        .where(Score.org_id == org_id, Score.trace_id != "")
        .order_by(Score.id)
    )
    rules = score_rules(conn, org_id)
    scored = [(row.id, row._asdict()) for row in conn.execute(query)]
    update_trace_quality(conn, org_id, rules, scored)
    conn.execute(
        update(Trace)
        .where(Trace.org_id == org_id, or_(Trace.verdict.is_not(None), Trace.reviewed.is_not(None)))
        .values(verdict=None, reviewed=None)
    )
    attach_scores(conn, org_id, {score["trace_id"] for _id, score in scored})


def trace_quality_drift(conn: Connection, org_id: int) -> list[str]:
    """Trace ids whose stored ``trace_quality`` differs from one recomputed from the scores."""
    stored = {
        row.trace_id: tuple(row[1:])
        for row in conn.execute(
            select(
                TraceQuality.trace_id,
                TraceQuality.verdict_score_id,
                TraceQuality.positive,
                TraceQuality.reviewed,
                TraceQuality.scores,
            ).where(TraceQuality.org_id == org_id)
        )
    }
    rules = score_rules(conn, org_id)
    expected: dict[str, list] = {}
    query = select(Score).where(Score.org_id == org_id, Score.trace_id != "")
    for row in conn.execute(query.order_by(Score.time_us, Score.id)):
        state = expected.setdefault(row.trace_id, [None, None, 0, 0])
        if rules.is_verdict(row.name):
            state[0], state[1] = row.id, int(is_positive(row.label, row.value))
        state[2] = max(state[2], int(row.source == ScoreSource.HUMAN))
        state[3] += 1
    wrong = {
        t for t in stored.keys() | expected.keys() if stored.get(t) != tuple(expected.get(t) or ())
    }
    return sorted(wrong)
