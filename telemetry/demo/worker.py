"""Feed the demo writer with trace batches, built here or in a child process.

For large runs the stream runs in a separate process, so building traces (pure
Python) overlaps with writing them (mostly inside the database driver). The
child rebuilds the same users from the seed and gets their database ids; the
batches it sends are exactly those the in-process stream would yield.
"""

from __future__ import annotations

import multiprocessing
import queue
import traceback
from collections.abc import Iterator

from telemetry.demo.people import demo_users
from telemetry.demo.stream import Batch, TraceStream

PARALLEL_FROM = 60_000  # traces; below this a child process costs more than it saves
_QUEUE_BATCHES = 4  # batches built ahead of the writer (bounds memory)


class _Failure:
    def __init__(self, text: str) -> None:
        self.text = text


def trace_batches(
    org: int,
    seed: int,
    first_day: int,
    days: int,
    total: int,
    user_ids: dict[str, tuple[int, int]],
    until_us: int,
) -> Iterator[Batch]:
    """The demo's batches in order; ``user_ids`` maps external id -> (user id, team id).

    ``until_us``: no run or span starts at or after it (now, when the period ends today).
    """
    args = (org, seed, first_day, days, total, user_ids, until_us)
    if total < PARALLEL_FROM:
        yield from _stream(*args).batches()
        return
    # "spawn" starts a fresh interpreter: safe whatever threads the caller runs.
    context = multiprocessing.get_context("spawn")
    batches = context.Queue(maxsize=_QUEUE_BATCHES)
    child = context.Process(target=_produce, args=(batches, *args), daemon=True)
    child.start()
    try:
        while (item := _next(batches, child)) is not None:
            if isinstance(item, _Failure):
                raise RuntimeError(f"building demo traces failed:\n{item.text}")
            yield item
    finally:
        if child.is_alive():
            child.terminate()  # the writer stopped early; our own child, stop it
        child.join()


def _next(batches, child) -> Batch | _Failure | None:
    while True:
        try:
            return batches.get(timeout=1)
        except queue.Empty:
            if not child.is_alive():
                raise RuntimeError(
                    f"the demo trace builder process exited unexpectedly (code {child.exitcode})"
                ) from None


def _stream(org, seed, first_day, days, total, user_ids, until_us) -> TraceStream:
    users = demo_users(seed, first_day, days, until_us)
    for user in users:
        user.id, user.team_id = user_ids[user.external_id]
    return TraceStream(org, seed, users, first_day, days, total, until_us)


def _produce(batches, *args) -> None:
    try:
        for batch in _stream(*args).batches():
            batches.put(batch)
        batches.put(None)
    except BaseException:  # reported to the parent, which raises it
        batches.put(_Failure(traceback.format_exc()))
