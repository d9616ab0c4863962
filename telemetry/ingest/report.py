"""The summary of an import or a request: what was stored, skipped and rejected."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from telemetry.ingest.otlp import Rejection


@dataclass
class IngestCounts:
    """What was stored, skipped and rejected: one batch's outcome, or a sum of them."""

    spans_stored: int = 0
    duplicates: int = 0
    traces_created: int = 0
    traces_updated: int = 0
    users_created: int = 0
    users_updated: int = 0
    teams_created: int = 0
    audit_events: int = 0
    scores_stored: int = 0
    score_duplicates: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    # Scores refused (unknown name, label or range): reported apart, not as rejected spans.
    score_rejections: list[Rejection] = field(default_factory=list)


_COUNTS = tuple(f.name for f in fields(IngestCounts) if f.type == "int")


@dataclass
class IngestReport(IngestCounts):
    """Totals over every batch written, and every rejected record with where and why."""

    def add(self, outcome: Any) -> None:
        """Add a :class:`~telemetry.ingest.writer.BatchOutcome` (or another report)."""
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(outcome, name))
        self.rejections.extend(outcome.rejections)
        self.score_rejections.extend(outcome.score_rejections)

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _COUNTS}
        data["rejected"] = [{"location": r.location, "reason": r.reason} for r in self.rejections]
        data["scores_rejected"] = [
            {"location": r.location, "reason": r.reason} for r in self.score_rejections
        ]
        return data

    def summary_lines(self, *, max_rejections: int = 20) -> list[str]:
        """A short text summary for people, rejections listed with where and why."""
        lines = [
            f"stored: {self.spans_stored} spans, {self.traces_created} new traces "
            f"({self.traces_updated} existing traces updated), {self.users_created} new users"
            + (f", {self.users_updated} users updated" if self.users_updated else "")
            + (f", {self.audit_events} audit events" if self.audit_events else ""),
            f"skipped: {self.duplicates} duplicate spans (already stored)",
            f"rejected: {self.rejected} records (kept in quarantine, table ingest_error)",
        ]
        for rejection in self.rejections[:max_rejections]:
            lines.append(f"  {rejection.location}: {rejection.reason}")
        if self.rejected > max_rejections:
            lines.append(f"  ... and {self.rejected - max_rejections} more")
        if self.scores_stored or self.score_duplicates or self.score_rejections:
            lines.append(
                f"scores: {self.scores_stored} stored, {self.score_duplicates} already stored, "
                f"{len(self.score_rejections)} rejected (kept in quarantine)"
            )
            for rejection in self.score_rejections[:max_rejections]:
                lines.append(f"  {rejection.location}: {rejection.reason}")
        return lines
