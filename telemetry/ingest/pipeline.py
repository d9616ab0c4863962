"""Overlap reading and writing during a file import, and keep the garbage collector out of it.

SQLite and psycopg release the GIL while the database works, so a writer thread
storing batch N lets the reading thread parse and map batch N+1 meanwhile.
Batches are still written one at a time, in order, each in its own transaction.
"""

from __future__ import annotations

import contextlib
import gc
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

_QUEUED_BATCHES = 2  # bounds memory: the reader never runs more than two batches ahead


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (restored after).

    An import allocates millions of small dicts that hold no reference cycles;
    with the collector on, its repeated passes over them cost more than the
    parsing itself (measured: 33 us per span instead of 7 for loading OTLP JSON).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class BackgroundWriter:
    """Runs ``write(batch)`` for each submitted batch, in order, in one worker thread.

    ``on_result`` receives each return value (in the worker thread). The first
    exception stops the writing; it is raised again by :meth:`submit` or at exit.
    """

    def __init__(self, write: Callable[[Any], Any], on_result: Callable[[Any], None]) -> None:
        self._write = write
        self._on_result = on_result
        self._queue: queue.Queue = queue.Queue(maxsize=_QUEUED_BATCHES)
        self._error: BaseException | None = None
        self._cancelled = False
        self._thread = threading.Thread(target=self._run, name="ingest-writer", daemon=True)

    def __enter__(self) -> BackgroundWriter:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if exc_info[0] is not None:
            self._cancelled = True  # e.g. Ctrl-C: finish the batch being written, drop the rest
        self._queue.put(None)
        self._thread.join()
        if self._error is not None and exc_info[0] is None:
            raise self._error

    def submit(self, batch: Any) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(batch)

    def _run(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            if self._error is not None or self._cancelled:
                continue  # after a failure or an interruption nothing more is written
            try:
                self._on_result(self._write(batch))
            except BaseException as error:  # handed to the reading thread
                self._error = error
