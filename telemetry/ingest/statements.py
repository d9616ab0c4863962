"""The UPDATEs the writer runs, built once, and the JSON text of attributes.

The statements are built once because building them costs more than running
them for a small batch. Bulk inserts go through :mod:`telemetry.bulk`.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import orjson
from sqlalchemy import bindparam, case, or_, update

from telemetry.models import Observation, Trace, User

TRACE_DIMENSIONS = ("user_id", "team_id", "session_id", "environment")


def to_json(value: Any) -> str:
    """Compact JSON text of attribute-like values (anything odd written as its str)."""
    try:
        return orjson.dumps(value, default=str).decode()
    except TypeError:  # e.g. an integer beyond 64 bits
        return json.dumps(value, default=str)


@cache
def trace_update(columns: tuple[str, ...]):
    """UPDATE trace SET <columns> WHERE id = :b_pk (parameters named b_<column>)."""
    values = {c: bindparam(f"b_{c}") for c in columns}
    return update(Trace).where(Trace.id == bindparam("b_pk")).values(values)


@cache
def trace_dimensions_update():
    """UPDATE observation SET user_id, team_id, session_id, environment WHERE trace_pk = :b_pk."""
    values = {f: bindparam(f"b_{f}") for f in TRACE_DIMENSIONS}
    return update(Observation).where(Observation.trace_pk == bindparam("b_pk")).values(values)


@cache
def duplicate_update():
    """UPDATE observation SET kind, duplicate_of WHERE trace_pk = :b_pk AND span_id = :b_span."""
    return (
        update(Observation)
        .where(
            Observation.trace_pk == bindparam("b_pk"), Observation.span_id == bindparam("b_span")
        )
        .values(kind=bindparam("b_kind"), duplicate_of=bindparam("b_of"))
    )


@cache
def widen_user_times():
    """first_trace_us = min(stored, :b_first), last_trace_us = max(stored, :b_last)."""
    first, last = bindparam("b_first"), bindparam("b_last")
    return (
        update(User)
        .where(User.id == bindparam("b_id"))
        .values(
            first_trace_us=case(
                (or_(User.first_trace_us.is_(None), User.first_trace_us > first), first),
                else_=User.first_trace_us,
            ),
            last_trace_us=case(
                (or_(User.last_trace_us.is_(None), User.last_trace_us < last), last),
                else_=User.last_trace_us,
            ),
        )
    )


# PostgreSQL: the same for all users of a batch in one statement (an executemany is one
# statement per user: a tenth of a 512-span request's time in the database).
WIDEN_USER_TIMES_POSTGRESQL = (
    "UPDATE end_user AS u SET "
    "first_trace_us = CASE WHEN u.first_trace_us IS NULL OR u.first_trace_us > v.first_us "
    "THEN v.first_us ELSE u.first_trace_us END, "
    "last_trace_us = CASE WHEN u.last_trace_us IS NULL OR u.last_trace_us < v.last_us "
    "THEN v.last_us ELSE u.last_trace_us END "
    "FROM unnest(%s::integer[], %s::bigint[], %s::bigint[]) AS v(id, first_us, last_us) "
    "WHERE u.id = v.id"
)
