"""A person's review of a run from the dashboard: verdict, configured labels and a comment.

Stored as scores of source ``human`` through the same writer as every other score
(organization lock, idempotency, latest verdict per trace), and audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from telemetry.ingest.audit import record_audit
from telemetry.ingest.scores import ScoreItem
from telemetry.ingest.writer import SpanWriter
from telemetry.models import ScoreSource
from telemetry.scores import COMMENT_MAX, finish_score
from telemetry.store import org_id
from telemetry.timeutil import now_us

REVIEW_NAME = "review"
VERDICT_LABELS = ("up", "down")


@dataclass(frozen=True)
class ReviewOutcome:
    stored: int
    rejected: tuple[str, ...]  # reasons, e.g. a label the configuration no longer allows


def record_review(
    engine: Engine,
    org: str,
    trace_id: str,
    *,
    author: str,
    verdict: str | None = None,
    labels: dict[str, str] | None = None,
    comment: str = "",
) -> ReviewOutcome:
    """Store ``author``'s review of ``trace_id``: a ``review`` verdict (up/down) and labels.

    The comment goes with the verdict, or with the first label when there is none.
    Each review is a new score (the latest verdict counts); nothing is stored when
    neither a verdict nor a label is given.
    """
    if verdict is not None and verdict not in VERDICT_LABELS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICT_LABELS)}, not {verdict!r}")
    at = now_us()
    chosen = [(REVIEW_NAME, verdict)] if verdict else []
    chosen += [(name, label) for name, label in (labels or {}).items() if label]
    items = []
    for index, (name, label) in enumerate(chosen):
        score = {
            "trace_id": trace_id,
            "span_id": "",
            "session_key": "",
            "name": name,
            "value": None,
            "label": label,
            "comment": comment[:COMMENT_MAX] if index == 0 else "",
            "source": str(ScoreSource.HUMAN),
            "author": author[:256],
            "time_us": at,
        }
        key = f"dashboard:{trace_id}:{author}:{name}:{at}"[:128]
        items.append(ScoreItem(f"review of {trace_id}: {name}", finish_score(score, key)))
    if not items:
        return ReviewOutcome(0, ())
    with engine.connect() as conn:
        org_pk = org_id(conn, org)
    writer = SpanWriter(engine, org_pk, source=f"dashboard review by {author}")
    outcome = writer.write(scores=items)
    with engine.begin() as conn:
        details = {"trace_id": trace_id, "scores": dict(chosen), "comment": bool(comment)}
        record_audit(conn, org_pk, "score.review", actor=author, target=trace_id, details=details)
    reasons = tuple(rejection.reason for rejection in outcome.score_rejections)
    return ReviewOutcome(outcome.scores_stored, reasons)
