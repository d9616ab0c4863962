"""Parse one line of a line-delimited file, OTLP JSON or native JSONL, into what to store.

Plain functions of (where, line, mapping context), so that a file import can run
them in its own thread or in worker processes (:mod:`telemetry.ingest.parallel`).
A line that cannot be read becomes a rejection with its location and text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telemetry.ingest.bounds import check_record, clean_document
from telemetry.ingest.mapping import MappingContext, MappingError, map_spans
from telemetry.ingest.native import (
    RECORD_TYPES,
    audit_row,
    observation_record,
    team_entry,
    trace_record,
    user_entry,
)
from telemetry.ingest.otlp import OtlpDecodeError, Rejection
from telemetry.ingest.otlp_json import decode_json_text, load_json
from telemetry.ingest.scores import ScoreItem
from telemetry.scores import ScoreError, read_score
from telemetry.timeutil import now_us

# Record fields as the native JSONL names them, in messages about their bounds.
_NATIVE_NAMES = {"start_us": "start", "end_us": "end"}


def _native_name(field: str) -> str:
    return _NATIVE_NAMES.get(field, field)


@dataclass
class Parsed:
    """What some lines hold: records, rejections, directory entries, audit events, scores."""

    records: list[dict[str, Any]] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    directory: list[Any] = field(default_factory=list)
    audits: list[dict[str, Any]] = field(default_factory=list)
    scores: list[ScoreItem] = field(default_factory=list)

    def size(self) -> int:
        return (
            len(self.records)
            + len(self.directory)
            + len(self.audits)
            + len(self.rejections)
            + len(self.scores)
        )

    def take(self) -> Parsed:
        """The records gathered so far, leaving this one empty for the next batch."""
        batch = Parsed(self.records, self.rejections, self.directory, self.audits, self.scores)
        self.records, self.rejections, self.directory, self.audits = [], [], [], []
        self.scores = []
        return batch

    def extend(self, other: Parsed) -> None:
        self.records.extend(other.records)
        self.rejections.extend(other.rejections)
        self.directory.extend(other.directory)
        self.audits.extend(other.audits)
        self.scores.extend(other.scores)


def otlp_line(where: str, line: bytes, context: MappingContext, out: Parsed) -> None:
    """One ExportTraceServiceRequest in OTLP JSON (what the Collector's file exporter writes)."""
    try:
        raws, rejected = decode_json_text(line, where=f"{where} ")
    except OtlpDecodeError as error:
        out.rejections.append(Rejection(where, str(error), line_text(line)))
        return
    records, unmapped = map_spans(raws, context)
    out.records.extend(records)
    out.rejections.extend(rejected + unmapped)


def jsonl_line(where: str, line: bytes, context: MappingContext, out: Parsed) -> None:
    """One record of the native JSONL (docs/jsonl.md): ``"type"`` says which."""
    try:
        obj = load_json(line)
    except ValueError as error:
        out.rejections.append(Rejection(where, f"not valid JSON ({error})", line_text(line)))
        return
    kind = obj.get("type") if isinstance(obj, dict) else None
    if kind == "score":
        _score_line(where, obj, line, out)
        return
    if kind not in (*RECORD_TYPES, "score"):
        types = ", ".join((*RECORD_TYPES, "score"))
        reason = f'each line needs "type": one of {types} (got {kind!r})'
        out.rejections.append(Rejection(where, reason, line_text(line)))
        return
    try:
        if kind in ("trace", "observation"):
            build = trace_record if kind == "trace" else observation_record
            record = build(obj, context)
            check_record(record, now_us(), _native_name)
            out.records.append(record)
        elif b"\\u0000" in line and kind in ("user", "team"):  # NUL: see bounds.clean_text
            out.directory.append(
                (user_entry if kind == "user" else team_entry)(clean_document(obj))
            )
        elif kind == "user":
            out.directory.append(user_entry(obj))
        elif kind == "team":
            out.directory.append(team_entry(obj))
        else:
            out.audits.append(audit_row(obj))
    except (MappingError, ValueError) as error:
        out.rejections.append(Rejection(where, f"{kind} record: {error}", line_text(line)))


def _score_line(where: str, obj: dict, line: bytes, out: Parsed) -> None:
    try:
        score = read_score(obj, author=where.rsplit(":", 1)[0], any_trace_key=True)
    except ScoreError as error:
        out.rejections.append(Rejection(where, f"score record: {error}", line_text(line)))
        return
    out.scores.append(ScoreItem(where, score, line_text(line)))


LineParser = Callable[[str, bytes, MappingContext, Parsed], None]
LINE_PARSERS: dict[str, LineParser] = {"otlp-json": otlp_line, "jsonl": jsonl_line}


def line_text(line: bytes) -> str:
    return line.decode("utf-8", errors="replace").rstrip("\r\n")
