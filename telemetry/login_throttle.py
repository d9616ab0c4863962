"""Wrong passwords slow their sender down; they never lock the rightful user out.

State lives in ``login_throttle`` (so it survives restarts and holds across
replicas on one store), per client address, per user name, and per name from
one address. After :data:`FREE_FAILURES` wrong passwords the next attempt has
to wait, 1 s and doubling with each further failure up to :data:`MAX_DELAY_US`:

- an address that keeps failing (whatever names it tries) waits after its
  own failures;
- an address that failed on a name waits after its next failure on that
  name as long as the name's failures from everywhere ask for (a spread-out
  guesser is slowed too);
- an address that has not failed on a name is not held back by that name:
  the rightful user's right password from their own address works while
  someone else hammers the name.

Failures are forgotten :data:`FORGET_AFTER_US` after the last one;
``users unlock NAME`` forgets a name's at once. An attempt that is let through
while a delay applies moves the next allowed moment on at once (as if it
failed), so parallel attempts cannot share one slot.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, and_, delete, or_, select, update
from sqlalchemy.exc import OperationalError

from telemetry.models import LoginThrottle
from telemetry.store import insert_ignoring_duplicates
from telemetry.timeutil import US_PER_SECOND, now_us

FREE_FAILURES = 3
BASE_DELAY_US = US_PER_SECOND
MAX_DELAY_US = 5 * 60 * US_PER_SECOND
FORGET_AFTER_US = 24 * 3600 * US_PER_SECOND
ADDRESS = "address"
NAME = "name"


def delay_us(failures: int) -> int:
    """How long to wait after ``failures`` recent wrong passwords."""
    if failures < FREE_FAILURES:
        return 0
    return min(MAX_DELAY_US, BASE_DELAY_US << min(failures - FREE_FAILURES, 40))


@dataclass(frozen=True)
class Refusal:
    """An attempt turned away unchecked: wait ``wait_us``, because of the ``because``."""

    wait_us: int
    because: str  # ADDRESS or NAME

    @property
    def seconds(self) -> int:
        return max(1, -(-self.wait_us // US_PER_SECOND))


def _retrying_deadlocks(function):
    """Run ``function`` again when PostgreSQL breaks a deadlock between concurrent attempts
    (their row inserts and locks can cross); it gives up after three tries."""

    def run(*args, **kwargs):
        for attempt in range(3):
            try:
                return function(*args, **kwargs)
            except OperationalError as error:
                if "deadlock" not in str(error).lower() or attempt == 2:
                    raise
        return None

    return run


@_retrying_deadlocks
def check_attempt(
    engine: Engine, name: str, address: str, *, at_us: int | None = None
) -> Refusal | None:
    """May ``address`` try a password for ``name`` now? ``None``: yes (the slot is taken)."""
    at_us = now_us() if at_us is None else at_us
    with engine.begin() as conn:
        _lock(conn, name, address)
        state = _state(conn, name, address, at_us)
        waits = [
            (state[key].next_allowed_us - at_us, because)
            for key, because in (((name, address), NAME), (("", address), ADDRESS))
            if key in state and state[key].next_allowed_us > at_us
        ]
        if waits:
            wait, because = max(waits)
            return Refusal(wait_us=wait, because=because)
        _take_slot(conn, name, address, state, at_us)
    return None


@_retrying_deadlocks
def record_failure(engine: Engine, name: str, address: str, *, at_us: int | None = None) -> None:
    """Count a wrong password for ``name`` from ``address`` and set the next delays."""
    at_us = now_us() if at_us is None else at_us
    keys = [("", address), (name, ""), (name, address)]
    with engine.begin() as conn:
        fresh = {"failures": 0, "last_failure_us": 0, "next_allowed_us": 0}
        rows = [{"name": key[0], "address": key[1], **fresh} for key in keys]
        insert_ignoring_duplicates(conn, LoginThrottle.__table__, rows)
        _lock(conn, name, address)
        state = _state(conn, name, address, at_us)
        failures = {key: (state[key].failures if key in state else 0) + 1 for key in keys}
        name_wide = failures[(name, "")]
        pair = (name, address)
        waits = {
            ("", address): delay_us(failures[("", address)]),
            (name, ""): 0,
            pair: delay_us(max(failures[pair], name_wide)),
        }
        for key in keys:
            kept = state[key].next_allowed_us if key in state else 0
            conn.execute(
                update(LoginThrottle)
                .where(_is(key))
                .values(
                    failures=failures[key],
                    last_failure_us=at_us,
                    next_allowed_us=max(kept, at_us + waits[key]),
                )
            )


def record_success(engine: Engine, name: str, address: str) -> None:
    """The right password: this address's failures on this name are forgiven.

    The address's own count and the name's count from everywhere stay (a guesser
    with an account of their own cannot wipe their record by logging in).
    """
    with engine.begin() as conn:
        conn.execute(delete(LoginThrottle).where(_is((name, address))))


def unlock_name(engine: Engine, name: str) -> int:
    """Forget every failure on ``name`` (from any address); how many records went."""
    with engine.begin() as conn:
        return conn.execute(delete(LoginThrottle).where(LoginThrottle.name == name)).rowcount


def unlock_address(engine: Engine, address: str) -> int:
    """Forget every failure from ``address`` (on any name); how many records went."""
    with engine.begin() as conn:
        gone = conn.execute(delete(LoginThrottle).where(LoginThrottle.address == address))
        return gone.rowcount


def _is(key: tuple[str, str]):
    return and_(LoginThrottle.name == key[0], LoginThrottle.address == key[1])


def _lock(conn: Connection, name: str, address: str) -> None:
    # A write first: SQLite takes its writer lock now and PostgreSQL locks the rows,
    # so two attempts at once are decided one after the other.
    conn.execute(
        update(LoginThrottle).where(_keys(name, address)).values(failures=LoginThrottle.failures)
    )


def _keys(name: str, address: str):
    return or_(_is(("", address)), _is((name, "")), _is((name, address)))


def _state(conn: Connection, name: str, address: str, at_us: int) -> dict:
    """The recent records of the address, the name and the pair (forgotten ones left out)."""
    rows = conn.execute(
        select(LoginThrottle.__table__).where(
            _keys(name, address), LoginThrottle.last_failure_us >= at_us - FORGET_AFTER_US
        )
    ).all()
    return {(row.name, row.address): row for row in rows}


def _take_slot(conn: Connection, name: str, address: str, state: dict, at_us: int) -> None:
    """Hold back the next attempt as if this one fails, where a delay already applies."""
    name_wide = state[(name, "")].failures if (name, "") in state else 0
    pending = {
        ("", address): lambda row: delay_us(row.failures + 1),
        (name, address): lambda row: delay_us(max(row.failures, name_wide) + 1),
    }
    for key, wait in pending.items():
        row = state.get(key)
        if row is None or row.failures + 1 < FREE_FAILURES:
            continue
        conn.execute(
            update(LoginThrottle).where(_is(key)).values(next_allowed_us=at_us + wait(row))
        )
