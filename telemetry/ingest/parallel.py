"""Parse the lines of a large file in worker processes while this process stores them.

Why processes: decoding and mapping a span is Python work that holds the GIL,
and SQLite's writer releases and retakes the GIL for every row it inserts, so a
parsing *thread* and a writing thread mostly take turns (measured: no faster
than one thread). Worker processes parse chunks of lines in file order, a few
chunks ahead of the writer; results come back per line, so the importer cuts
batches exactly where it would parsing alone.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from telemetry.ingest.lines import LINE_PARSERS, Parsed
from telemetry.ingest.mapping import MappingContext
from telemetry.ingest.pipeline import gc_paused

WORKERS_ENV = "TELEMETRY_INGEST_WORKERS"
PARALLEL_FROM_BYTES = 16 * 1024 * 1024  # smaller files: starting workers costs more than it saves
_CHUNK_BYTES = 2 * 1024 * 1024  # lines sent to a worker at once
_CHUNKS_AHEAD = 3  # per worker: bounds memory, keeps the workers busy while a batch is stored

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


def parsed_lines(
    fmt: str,
    path: str,
    lines: Iterable[tuple[int, bytes]],
    context: MappingContext,
    workers: int,
) -> Iterator[Parsed]:
    """What each non-blank line holds, in file order, parsed by ``workers`` processes."""
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
            for chunk in _chunks(lines):
                pending.append(pool.submit(_parse_chunk, fmt, path, chunk))
                if len(pending) >= workers * _CHUNKS_AHEAD:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _chunks(lines: Iterable[tuple[int, bytes]]) -> Iterator[list[tuple[int, bytes]]]:
    chunk: list[tuple[int, bytes]] = []
    size = 0
    for number, line in lines:
        chunk.append((number, line))
        size += len(line)
        if size >= _CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _start_worker(context: MappingContext) -> None:
    global _context
    _context = context


def _parse_chunk(fmt: str, path: str, chunk: list[tuple[int, bytes]]) -> list[Parsed]:
    parse = LINE_PARSERS[fmt]
    out = []
    with gc_paused():  # millions of small acyclic dicts: see telemetry.ingest.pipeline
        for number, line in chunk:
            if line.strip():
                parsed = Parsed()
                parse(f"{path}:{number}", line, _context, parsed)
                out.append(parsed)
    return out
