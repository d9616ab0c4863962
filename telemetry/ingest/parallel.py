"""Parse the lines of a large file in worker processes while this process stores them.

Why processes: decoding and mapping a span is Python work that holds the GIL,
and SQLite's writer releases and retakes the GIL for every row it inserts, so a
parsing *thread* and a writing thread mostly take turns (measured: no faster
than one thread). Worker processes parse chunks of lines in file order, a few
chunks ahead of the writer; results come back per line, so the importer cuts
batches exactly where it would parsing alone.

A chunk travels to its worker as a byte range of the file (offset, length, number
of its first line), which the worker reads itself: pickling the lines and piping
them over cost this process, the writer's, a tenth of its time on a 1M-span file.
"""

from __future__ import annotations

import io
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, BinaryIO, NamedTuple

from telemetry.ingest.lines import LINE_PARSERS, Parsed
from telemetry.ingest.mapping import MappingContext
from telemetry.ingest.pipeline import gc_paused

WORKERS_ENV = "TELEMETRY_INGEST_WORKERS"
PARALLEL_FROM_BYTES = 16 * 1024 * 1024  # smaller files: starting workers costs more than it saves
_CHUNK_BYTES = 2 * 1024 * 1024  # lines given to a worker at once
# Per worker: bounds memory, and keeps the workers parsing while the writer stores a
# batch (Limits.batch_spans: 10,000 spans are 3 to 4 chunks of typical OTLP JSON).
_CHUNKS_AHEAD = 8

_context: MappingContext | None = None  # in a worker process: the importer's mapping context


def worker_count(environ: dict[str, str] | None = None) -> int:
    """Worker processes for a large import: ``TELEMETRY_INGEST_WORKERS``, else one per core
    but one (this process writes), at most 4; 0 parses in this process."""
    environ = os.environ if environ is None else environ
    text = environ.get(WORKERS_ENV, "").strip()
    if text:
        try:
            count = int(text)
        except ValueError:
            raise ValueError(f"{WORKERS_ENV}={text!r} is not a whole number") from None
        if count < 0:
            raise ValueError(f"{WORKERS_ENV}={text!r} must be 0 or more")
        return count
    return min(max((os.cpu_count() or 1) - 1, 0), 4)


class Chunk(NamedTuple):
    """Consecutive lines of the file: where they start, how many bytes, the first's number."""

    offset: int
    size: int
    first_line: int


def parsed_lines(
    fmt: str,
    path: str,
    handle: BinaryIO,
    context: MappingContext,
    workers: int,
    progress: Any = None,
) -> Iterator[Parsed]:
    """What each non-blank line holds, in file order, parsed by ``workers`` processes.

    ``handle`` is the file opened for binary reading at its start, read here only to
    cut chunks (the workers read their chunks from ``path``); ``progress.update(n)``
    is told of every n bytes cut.
    """
    # fork: workers start in milliseconds and inherit the imported modules; they only
    # parse (no threads, locks or connections of this process are used in them).
    start = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context(start),
        initializer=_start_worker,
        initargs=(context,),
    ) as pool:
        pending: deque[Future] = deque()
        try:
            for chunk in chunks(handle):
                if progress is not None:
                    progress.update(chunk.size)
                pending.append(pool.submit(_parse_chunk, fmt, path, chunk))
                if len(pending) >= workers * _CHUNKS_AHEAD:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def chunks(handle: BinaryIO, size: int | None = None) -> Iterator[Chunk]:
    """Byte ranges of whole lines of the file open in ``handle`` (at its start): each
    ``size`` bytes (default ``_CHUNK_BYTES``) and the rest of the line they end in.

    Lines end at b"\\n" only, as iterating over a binary file splits them. Reading and
    counting them a block at a time keeps per-line Python work out of this process,
    which stores: cutting line by line cost it 3% of its time on a 1M-span file.
    """
    size = size or _CHUNK_BYTES
    offset, line = 0, 1
    while data := handle.read(size):
        if not data.endswith(b"\n"):
            data += handle.readline()  # the rest of the line the block cut, if any
        yield Chunk(offset, len(data), line)
        offset += len(data)
        line += data.count(b"\n")


def read_chunk(path: str, chunk: Chunk) -> Iterator[tuple[int, bytes]]:
    """The numbered lines of ``chunk``, split as iterating over the file splits them."""
    with open(path, "rb") as handle:
        handle.seek(chunk.offset)
        data = handle.read(chunk.size)
    return enumerate(io.BytesIO(data), chunk.first_line)


def _start_worker(context: MappingContext) -> None:
    global _context
    _context = context


def _parse_chunk(fmt: str, path: str, chunk: Chunk) -> list[Parsed]:
    parse = LINE_PARSERS[fmt]
    out = []
    with gc_paused():  # millions of small acyclic dicts: see telemetry.ingest.pipeline
        for number, line in read_chunk(path, chunk):
            if line.strip():
                parsed = Parsed()
                parse(f"{path}:{number}", line, _context, parsed)
                out.append(parsed)
    return out
