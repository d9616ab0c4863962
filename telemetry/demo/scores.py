"""Demo scores: user feedback on a minority of runs, LLM-judge evaluations, a few reviews.

Deterministic from the seed and the runs already written. Feedback is rarer than
runs (about one run in eight), more often negative on failed runs and on agents
that fail more; an LLM judge scores about a quarter of the runs (relevance 0-1,
hallucination yes/no); a lead reviews some failed runs.
"""

from __future__ import annotations

import hashlib
import random

from sqlalchemy import Connection, insert, select

from telemetry.ingest.scores import rebuild_trace_quality
from telemetry.models import Score, Trace, TraceStatus
from telemetry.timeutil import US_PER_SECOND

FEEDBACK_SHARE = 0.12
JUDGED_SHARE = 0.25
REVIEWED_FAILURES = 0.05
_CHUNK = 5000
_COMPLAINTS = (
    "wrong answer",
    "it ignored my instructions",
    "too slow",
    "made up a function that does not exist",
    "had to redo it myself",
)
_PRAISE = ("exactly what I needed", "saved me an hour", "")
_JUDGE = "judge-gpt-4o-mini"


def add_demo_scores(conn: Connection, org: int, seed: int, *, now_us: int | None = None) -> int:
    """Write the demo organization's scores and their verdicts; return how many.

    No score is given after ``now_us`` (a run that just ended is not rated yet).
    """
    rng = random.Random(f"{seed}:scores")
    runs = conn.execute(
        select(Trace.trace_id, Trace.agent, Trace.status, Trace.start_us, Trace.end_us)
        .where(Trace.org_id == org)
        .order_by(Trace.id)
    ).all()
    failing = _error_rates(runs)
    rows: list[dict] = []
    count = 0
    for run in runs:
        given = _scores_of_run(rng, org, run, failing)
        rows.extend(row for row in given if now_us is None or row["time_us"] < now_us)
        if len(rows) >= _CHUNK:
            count += _flush(conn, rows)
    count += _flush(conn, rows)
    rebuild_trace_quality(conn, org)
    return count


def _scores_of_run(rng: random.Random, org: int, run, failing: dict[str, float]) -> list[dict]:
    trace_id, agent, status, start_us, end_us = run
    failed = status in (TraceStatus.ERROR, TraceStatus.TIMEOUT)
    after = (end_us or start_us) + rng.randint(5, 900) * US_PER_SECOND
    rows = []

    def add(name, value, label, source, author, delay_s=0, comment=""):
        at = after + delay_s * US_PER_SECOND
        rows.append(_row(org, trace_id, name, value, label, comment, source, author, at))

    if rng.random() < FEEDBACK_SHARE:
        good = 0.25 if failed else max(0.35, 0.9 - 2.5 * failing.get(agent, 0.0))
        up = rng.random() < good
        comment = rng.choice(_PRAISE if up else _COMPLAINTS) if rng.random() < 0.3 else ""
        add("user_feedback", None, "up" if up else "down", "feedback", "app", comment=comment)
    if rng.random() < JUDGED_SHARE:
        relevance = min(1.0, max(0.0, rng.gauss(0.45 if failed else 0.8, 0.15)))
        made_up = rng.random() < (0.3 if failed else 0.06)
        add("relevance", round(relevance, 2), "", "llm", _JUDGE, 60)
        add("hallucination", None, "yes" if made_up else "no", "llm", _JUDGE, 61)
    if failed and rng.random() < REVIEWED_FAILURES:
        add("review", None, "down", "human", "lead", 3600, "checked: the run failed")
    return rows


def _error_rates(runs) -> dict[str, float]:
    totals: dict[str, list[int]] = {}
    for _trace_id, agent, status, _start, _end in runs:
        entry = totals.setdefault(agent, [0, 0])
        entry[0] += 1
        entry[1] += status in (TraceStatus.ERROR, TraceStatus.TIMEOUT)
    return {agent: failed / runs for agent, (runs, failed) in totals.items()}


def _row(org, trace_id, name, value, label, comment, source, author, at_us) -> dict:
    key = hashlib.sha256(f"demo:{trace_id}:{name}".encode()).hexdigest()[:40]
    return {
        "org_id": org,
        "score_key": key,
        "trace_id": trace_id,
        "span_id": "",
        "session_key": "",
        "name": name,
        "value": value,
        "label": label,
        "comment": comment,
        "source": source,
        "author": author,
        "time_us": at_us,
        "created_us": at_us,
    }


def _flush(conn: Connection, rows: list[dict]) -> int:
    if not rows:
        return 0
    conn.execute(insert(Score), rows)
    written = len(rows)
    rows.clear()
    return written
