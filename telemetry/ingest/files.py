"""Import files: OTLP JSON, the native JSONL and the user-directory CSV.

Records are written in batches of ``Limits.batch_spans``, one transaction each,
so an import that is killed leaves whole batches only; running it again stores
what is missing and skips the rest as duplicates. A line that cannot be read is
reported as ``file:line`` with why, and quarantined with its text; the rest of
the file is still stored.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Engine

from telemetry.ingest.directory import DirectoryUser
from telemetry.ingest.identities import Identities
from telemetry.ingest.limits import Limits
from telemetry.ingest.lines import LINE_PARSERS, Parsed, jsonl_line, line_text, otlp_line
from telemetry.ingest.mapping import MappingContext, map_spans, mapping_context
from telemetry.ingest.otlp import OtlpDecodeError, Rejection
from telemetry.ingest.otlp_json import decode_json, load_json
from telemetry.ingest.parallel import PARALLEL_FROM_BYTES, parsed_lines, worker_count
from telemetry.ingest.pipeline import BackgroundWriter, gc_paused
from telemetry.ingest.report import IngestReport
from telemetry.ingest.writer import SpanWriter
from telemetry.store import org_id as lookup_org_id

FORMATS = ("auto", "otlp-json", "jsonl", "csv")
CSV_COLUMNS = ("id", "name", "email", "company", "team", "status")
_SNIFF_LINES = 20

# progress(path, total_bytes) -> a context manager whose .update(n) is called per n bytes read
ProgressFactory = Callable[[Path, int], Any]


class FileFormatError(ValueError):
    """A file whose format cannot be told or read as a whole."""


def detect_format(path: Path) -> str:
    """``csv`` by extension; else ``jsonl`` when lines carry a "type", else ``otlp-json``."""
    if path.suffix.lower() == ".csv":
        return "csv"
    with path.open("rb") as handle:
        for _ in range(_SNIFF_LINES):
            line = handle.readline()
            if not line:
                break
            if not line.strip():
                continue
            try:
                document = load_json(line)
            except ValueError:
                continue
            if isinstance(document, dict) and "type" in document:
                return "jsonl"
            return "otlp-json"
    if path.stat().st_size == 0:
        return "otlp-json"
    if line_is_json_start(path):
        return "otlp-json"  # a pretty-printed request, one per file
    raise FileFormatError(
        f"{path}: cannot tell whether this is OTLP JSON, JSONL or CSV; pass --format"
    )


def line_is_json_start(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(64).lstrip()
    return head.startswith((b"{", b"["))


class FileImporter:
    """Imports files into one organization; a report accumulates over all of them."""

    def __init__(
        self,
        engine: Engine,
        org: str = "default",
        *,
        limits: Limits | None = None,
        progress: ProgressFactory | None = None,
    ) -> None:
        self.engine = engine
        with engine.connect() as conn:
            self.org_id = lookup_org_id(conn, org)
        self.limits = limits or Limits.from_env()
        self.context: MappingContext = mapping_context(engine, self.org_id, self.limits)
        self.progress = progress
        self.report = IngestReport()
        self.identities = Identities(self.org_id)  # ids cached across the files
        self.workers: int | None = None  # parsing processes for large files, decided once

    def import_path(self, path: Path | str, fmt: str = "auto") -> IngestReport:
        """Import one file; return its own report (also added to ``self.report``)."""
        path = Path(path)
        if fmt not in FORMATS:
            raise FileFormatError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
        if not path.is_file():
            raise FileFormatError(f"{path}: no such file")
        fmt = detect_format(path) if fmt == "auto" else fmt
        report = IngestReport()
        writer = SpanWriter(
            self.engine,
            self.org_id,
            source=str(path),
            identities=self.identities,
            pricer=self.context.pricer,
        )

        def write(batch: Parsed):
            return writer.write(
                batch.records,
                batch.rejections,
                directory=batch.directory,
                audits=batch.audits,
                scores=batch.scores,
            )

        if self._in_parallel(path, fmt):
            self._import_in_parallel(path, fmt, write, report)
        else:
            self._import_here(path, fmt, write, report)
        self.report.add(report)
        return report

    def _import_here(self, path: Path, fmt: str, write, report: IngestReport) -> None:
        """Parse in this process; a writer thread stores batch N while batch N+1 is parsed."""
        read = {"otlp-json": self._otlp_json, "jsonl": self._jsonl, "csv": self._csv}[fmt]
        pending = Parsed()
        with (
            gc_paused(),
            BackgroundWriter(write, report.add) as background,
            path.open("rb") as handle,
            self._progress(path) as bar,
        ):
            for _ in read(path, _counted_lines(handle, bar), pending):
                if pending.size() >= self.limits.batch_spans:
                    background.submit(pending.take())
            if pending.size():
                background.submit(pending.take())

    def _in_parallel(self, path: Path, fmt: str) -> bool:
        """Large line-delimited files parse in worker processes (``TELEMETRY_INGEST_WORKERS``)."""
        if fmt not in LINE_PARSERS or path.stat().st_size < PARALLEL_FROM_BYTES:
            return False
        if self.workers is None:
            self.workers = worker_count()
        if not self.workers:
            return False
        return fmt == "jsonl" or _first_line_is_json(path)

    def _import_in_parallel(self, path: Path, fmt: str, write, report: IngestReport) -> None:
        """Worker processes parse; this process stores each batch as soon as it is whole."""
        pending = Parsed()
        with gc_paused(), path.open("rb") as handle, self._progress(path) as bar:
            parsed_all = parsed_lines(fmt, str(path), handle, self.context, self.workers, bar)
            for parsed in parsed_all:
                pending.extend(parsed)
                if pending.size() >= self.limits.batch_spans:
                    report.add(write(pending.take()))
            if pending.size():
                report.add(write(pending.take()))

    @contextlib.contextmanager
    def _progress(self, path: Path) -> Iterator[Any]:
        if self.progress is None:
            yield None
            return
        with self.progress(path, path.stat().st_size) as bar:
            yield bar

    # --- readers: each yields after every record so the caller can flush -----

    def _otlp_json(self, path: Path, lines: Iterable[tuple[int, bytes]], pending: Parsed):
        lines = iter(lines)
        first = next(((n, line) for n, line in lines if line.strip()), None)
        if first is None:
            return
        try:
            load_json(first[1])
        except ValueError:
            # Not one request per line: the whole file may be one (pretty-printed) request.
            rest = b"".join(line for _n, line in lines)
            yield from self._otlp_whole(path, first, rest, pending)
            return
        for number, line in _chain_first(first, lines):
            if line.strip():
                otlp_line(f"{path}:{number}", line, self.context, pending)
                yield

    def _otlp_whole(self, path: Path, first: tuple[int, bytes], rest: bytes, pending: Parsed):
        text = first[1] + rest
        try:
            document = load_json(text)
        except ValueError as error:
            reason = f"not valid JSON, neither one request per line nor one per file ({error})"
            pending.rejections.append(Rejection(f"{path}:{first[0]}", reason, line_text(first[1])))
            yield
            return
        requests = document if isinstance(document, list) else [document]
        for index, request in enumerate(requests):
            where = f"{path}" if len(requests) == 1 else f"{path} [{index}]"
            try:
                raws, rejected = decode_json(request, where=f"{where} ")
            except OtlpDecodeError as error:
                pending.rejections.append(Rejection(where, str(error), line_text(text[:10_000])))
                continue
            records, unmapped = map_spans(raws, self.context)
            pending.records.extend(records)
            pending.rejections.extend(rejected + unmapped)
            yield

    def _jsonl(self, path: Path, lines: Iterable[tuple[int, bytes]], pending: Parsed):
        for number, line in lines:
            if line.strip():
                jsonl_line(f"{path}:{number}", line, self.context, pending)
                yield

    def _csv(self, path: Path, lines: Iterable[tuple[int, bytes]], pending: Parsed):
        # NUL characters, which PostgreSQL cannot store (and csv refuses), become U+FFFD.
        text = (line.decode("utf-8-sig", errors="replace") for _n, line in lines)
        reader = csv.reader(line.replace("\x00", "\ufffd") for line in text)
        header = [h.strip().lower() for h in next(reader, [])]
        missing = [c for c in CSV_COLUMNS if c not in header]
        if missing:
            reason = (
                f"the header must name the columns {','.join(CSV_COLUMNS)} "
                f"(missing: {', '.join(missing)}); no row was read"
            )
            pending.rejections.append(Rejection(f"{path}:1", reason, ",".join(header)))
            yield
            return
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                reason = f"{len(row)} cells, the header has {len(header)}"
                pending.rejections.append(Rejection(where, reason, ",".join(row)))
                continue
            cells = {name: cell.strip() for name, cell in zip(header, row, strict=True)}
            try:
                entry = DirectoryUser(
                    external_id=cells["id"],
                    name=cells["name"],
                    email=cells["email"],
                    company=cells["company"],
                    team=cells["team"],
                    status=cells["status"].lower(),
                )
            except ValueError as error:
                pending.rejections.append(Rejection(where, str(error), ",".join(row)))
                continue
            pending.directory.append(entry)
            yield


def _counted_lines(handle: BinaryIO, bar: Any) -> Iterator[tuple[int, bytes]]:
    """(line number, line) pairs, reporting bytes read to the progress bar."""
    for number, line in enumerate(handle, 1):
        if bar is not None:
            bar.update(len(line))
        yield number, line


def _first_line_is_json(path: Path) -> bool:
    """Whether the file holds one JSON document per line (else a single, multi-line one)."""
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                try:
                    load_json(line)
                except ValueError:
                    return False
                return True
    return False


def _chain_first(first, rest):
    yield first
    yield from rest


def import_files(
    engine: Engine,
    paths: Iterable[Path | str],
    *,
    org: str = "default",
    fmt: str = "auto",
    limits: Limits | None = None,
    progress: ProgressFactory | None = None,
) -> IngestReport:
    """Import every file into organization ``org``; return the combined report."""
    importer = FileImporter(engine, org, limits=limits, progress=progress)
    for path in paths:
        importer.import_path(path, fmt)
    return importer.report
