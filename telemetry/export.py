"""Bulk export: the period's records, one file per kind, streamed, with a manifest.

``export_records`` writes ``<kind>.<csv|json|jsonl>`` for each kind asked (see
:mod:`telemetry.export_kinds`) and ``manifest.json`` with each file's row count
and SHA-256, the filters and the schema version. Rows are read through a
server-side cursor (PostgreSQL) or SQLite's lazy cursor in chunks of
:data:`CHUNK_ROWS` and written as they come: memory stays flat whatever the
period holds. CSV cells that a spreadsheet would run as formulas are
neutralised (telemetry.csvsafe). Content (prompts, responses, tool arguments)
is only written when asked, and only an admin may ask (:func:`scoped_for`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, func, select

from telemetry.accounts import Account
from telemetry.csvsafe import neutralise
from telemetry.export_kinds import KINDS, Column
from telemetry.filters import Filters
from telemetry.ingest.audit import record_audit
from telemetry.queries.scope import Subject, resolve_scope
from telemetry.timeutil import now_us, rfc3339

FORMATS = ("csv", "json", "jsonl")
SCHEMA_VERSION = 1
CHUNK_ROWS = 5000
MANIFEST = "manifest.json"
Progress = Callable[[str, int, int], None]  # (kind, rows written, rows in all kinds)


@dataclass(frozen=True)
class ExportRequest:
    """What to export: the sidebar filters, plus agent and model, kinds, format, content."""

    filters: Filters
    kinds: tuple[str, ...]
    format: str = "jsonl"
    content: bool = False
    agent: str | None = None
    model: str | None = None

    def check(self) -> None:
        """Refuse unknown kinds and formats before anything is written (ValueError)."""
        if not self.kinds:
            raise ValueError(f"choose at least one kind to export: {', '.join(KINDS)}")
        unknown = [kind for kind in self.kinds if kind not in KINDS]
        if unknown:
            raise ValueError(
                f"unknown kind {', '.join(map(repr, unknown))}; the kinds are: {', '.join(KINDS)}"
            )
        if self.format not in FORMATS:
            raise ValueError(f"unknown format {self.format!r}; choose one of {', '.join(FORMATS)}")

    def described(self) -> dict:
        """The filters as written to the manifest and the audit trail."""
        f = self.filters
        return {
            "org": f.org,
            "from": f.start.isoformat(),
            "to": f.end.isoformat(),
            "teams": list(f.teams) if f.teams is not None else None,
            "environments": list(f.environments) if f.environments is not None else None,
            "agent": self.agent,
            "model": self.model,
            "content": self.content,
        }


def scoped_for(account: Account, request: ExportRequest) -> ExportRequest:
    """The request as ``account`` may run it: a manager gets only their teams and no content."""
    if account.is_admin:
        return request
    if request.content:
        raise PermissionError("only admins may export prompt and response content")
    allowed = account.teams_in(request.filters.org)
    chosen = request.filters.teams
    teams = allowed if chosen is None else tuple(t for t in chosen if t in allowed)
    return replace(request, filters=replace(request.filters, teams=teams))


def export_records(
    engine: Engine, request: ExportRequest, directory: Path, *, progress: Progress | None = None
) -> dict:
    """Write the files and ``manifest.json`` into ``directory``; return the manifest."""
    request.check()
    subject = Subject(agent=request.agent, model=request.model)
    scope = resolve_scope(engine, request.filters, subject if subject else None)
    directory.mkdir(parents=True, exist_ok=True)
    queries = {kind: KINDS[kind].query(scope, content=request.content) for kind in request.kinds}
    total = _total_rows(engine, [query for _columns, query in queries.values()])
    manifest: dict = {
        "schema_version": SCHEMA_VERSION,
        "created": rfc3339(now_us()),
        "format": request.format,
        "filters": request.described(),
        "kinds": {},
    }
    done = 0
    for kind, (columns, query) in queries.items():
        name = f"{kind}.{request.format}"

        def step(rows: int, kind: str = kind, before: int = done) -> None:
            if progress is not None:
                progress(kind, before + rows, total)

        rows, digest = _write_kind(engine, query, columns, directory / name, request.format, step)
        done += rows
        manifest["kinds"][kind] = {
            "file": name,
            "rows": rows,
            "sha256": digest,
            "columns": [column.name for column in columns],
        }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _total_rows(engine: Engine, queries: list) -> int:
    with engine.connect() as conn:
        return sum(
            int(
                conn.execute(select(func.count()).select_from(q.order_by(None).subquery())).scalar()
            )
            for q in queries
        )


def _write_kind(
    engine, query, columns: list[Column], path: Path, fmt: str, step
) -> tuple[int, str]:
    digest = hashlib.sha256()
    rows = 0
    with path.open("wb") as out, engine.connect() as conn:

        def write(data: bytes) -> None:
            digest.update(data)
            out.write(data)

        result = conn.execution_options(stream_results=True, yield_per=CHUNK_ROWS).execute(query)
        encoder = _ENCODERS[fmt](columns)
        write(encoder.start())
        for chunk in result.partitions():
            write(encoder.rows(_plain(row, columns) for row in chunk))
            rows += len(chunk)
            step(rows)
        write(encoder.end())
    step(rows)
    return rows, digest.hexdigest()


def _plain(row, columns: list[Column]) -> list:
    values = []
    for column, value in zip(columns, row, strict=True):
        if value is not None and column.time:
            value = rfc3339(int(value))
        elif isinstance(value, Decimal):  # PostgreSQL's SUM of integers
            value = int(value) if value == value.to_integral_value() else float(value)
        values.append(value)
    return values


class _JsonLines:
    def __init__(self, columns: list[Column]) -> None:
        self.names = [column.name for column in columns]

    def start(self) -> bytes:
        return b""

    def rows(self, rows: Iterable[list]) -> bytes:
        return "".join(self._line(values) + "\n" for values in rows).encode("utf-8")

    def _line(self, values: list) -> str:
        return json.dumps(dict(zip(self.names, values, strict=True)), ensure_ascii=False)

    def end(self) -> bytes:
        return b""


class _JsonArray(_JsonLines):
    """One JSON array, written a chunk at a time: ``[`` first, ``,`` between rows."""

    def __init__(self, columns: list[Column]) -> None:
        super().__init__(columns)
        self.first = True

    def start(self) -> bytes:
        return b"["

    def rows(self, rows: Iterable[list]) -> bytes:
        parts = []
        for values in rows:
            parts.append(("\n" if self.first else ",\n") + self._line(values))
            self.first = False
        return "".join(parts).encode("utf-8")

    def end(self) -> bytes:
        return b"\n]\n"


class _Csv:
    """CSV as telemetry.csvsafe writes it: UTF-8 with BOM, CRLF rows, formulas neutralised."""

    def __init__(self, columns: list[Column]) -> None:
        self.names = [column.name for column in columns]

    def start(self) -> bytes:
        return "\ufeff".encode() + self._encode([self.names])

    def rows(self, rows: Iterable[list]) -> bytes:
        return self._encode([neutralise(v) for v in values] for values in rows)

    def end(self) -> bytes:
        return b""

    @staticmethod
    def _encode(rows: Iterable[list]) -> bytes:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerows(rows)
        return buffer.getvalue().encode("utf-8")


_ENCODERS = {"jsonl": _JsonLines, "json": _JsonArray, "csv": _Csv}


def record_export(engine: Engine, manifest: dict, *, actor: str = "", via: str = "cli") -> None:
    """The audit event of a downloaded export: who, filters, kinds and row counts."""
    from telemetry.store import org_id

    filters = manifest["filters"]
    with engine.begin() as conn:
        record_audit(
            conn,
            org_id(conn, filters["org"]),
            "export.downloaded",
            actor=actor,
            target=filters["org"],
            details={
                "via": via,
                "format": manifest["format"],
                "filters": filters,
                "rows": {kind: entry["rows"] for kind, entry in manifest["kinds"].items()},
            },
        )


def zip_export(directory: Path, target: Path) -> Path:
    """The export's files and manifest in one zip (what the Export page offers)."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.iterdir()):
            if path.is_file() and path != target:
                archive.write(path, arcname=path.name)
    return target


def export_choices(engine: Engine, filters: Filters) -> tuple[list[str], list[str]]:
    """The agents and models the filters' period holds: the Export page's pickers."""
    from telemetry.queries.dimensions import agents_in, models_in

    with engine.connect() as conn:
        scope = resolve_scope(conn, filters)
        return agents_in(conn, scope), models_in(conn, scope)
