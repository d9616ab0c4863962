"""Resolve the teams, users and sessions named by spans into ids, creating missing ones.

One :class:`Identities` lives as long as an import (or, for the HTTP endpoint,
as the server), so a user seen in many batches is looked up once. Every method
runs inside the caller's write transaction; after a rollback, or when someone
else wrote to the organization meanwhile, the writer clears it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    String,
    Text,
    any_,
    bindparam,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.sqltypes import NullType
from sqlalchemy.sql.visitors import InternalTraversal

from telemetry.bulk import is_postgresql
from telemetry.models import Session, Team, User, UserStatus
from telemetry.store import insert_ignoring_duplicates
from telemetry.timeutil import now_us

UNASSIGNED_TEAM = "Unassigned"
# PostgreSQL: create the sessions of keys (with their owners) that do not exist yet,
# returning (key, id) of those created. Keys that exist are filtered out first: every row
# an INSERT tries takes a number from the id sequence, conflict or not, and the 32-bit
# ids would run out (the writer's cache is emptied whenever another process writes).
# OFFSET 0 makes the check one probe of the (org_id, session_key) index per key: as a
# join, a store not analyzed yet was planned to read all the organization's sessions
# into a hash table at every batch (1.1 ms at 3,500 sessions, growing with them).
_CREATE_SESSIONS_POSTGRESQL = (
    "INSERT INTO session (org_id, session_key, user_id, created_us) "
    "SELECT %(org)s, v.session_key, v.user_id, %(now)s "
    "FROM unnest(%(keys)s::text[], %(owners)s::integer[]) AS v(session_key, user_id) "
    "WHERE NOT EXISTS (SELECT 1 FROM session AS s "
    "WHERE s.org_id = %(org)s AND s.session_key = v.session_key OFFSET 0) "
    "ON CONFLICT (org_id, session_key) DO NOTHING RETURNING session_key, id"
)
_IN_CHUNK = 500  # values per IN (...) list, well under every backend's parameter limit


def chunks(values: Sequence, size: int = _IN_CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class _OneOf(ColumnElement[bool]):
    """``column`` equals one of the ``values`` that :func:`rows_in` passes."""

    inherit_cache = True
    type = NullType()  # a condition of its own: no "= 1" appended on SQLite
    _traverse_internals: ClassVar = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column) -> None:
        self.column = column


def one_of(column) -> ColumnElement[bool]:
    """The filter of a :func:`rows_in` query: ``column`` is one of its values."""
    return _OneOf(column.__clause_element__() if hasattr(column, "__clause_element__") else column)


@compiles(_OneOf)
def _one_of_listed(element: _OneOf, compiler, **kw) -> str:
    # An expanding parameter is rendered at execution; a literal list would have
    # SQLAlchemy coerce every value into its own bind object (slow for 500 ids).
    return compiler.process(element.column.in_(bindparam("values", expanding=True)), **kw)


@compiles(_OneOf, "postgresql")
def _one_of_array(element: _OneOf, compiler, **kw) -> str:
    # One array parameter: the statement's text is the same for any number of values,
    # so neither SQLAlchemy nor psycopg renders and parses 500 placeholders again at
    # every lookup (a sixth of the time a busy organization's writer holds its lock).
    # Strings as text[]: a cast to varchar(n)[] would cut longer values to n characters.
    kind = element.column.type
    textual = isinstance(kind, String) or isinstance(getattr(kind, "impl", None), String)
    values = bindparam("values", type_=ARRAY(Text() if textual else kind))
    return compiler.process(element.column == any_(values), **kw)


def rows_in(conn: Connection, query, values: Sequence) -> Iterator[Row]:
    """Rows of ``query`` (filtering on :func:`one_of`) for all ``values``: one statement
    on PostgreSQL, one per chunk of values elsewhere."""
    if is_postgresql(conn):
        yield from conn.execute(query, {"values": list(values)})
        return
    for part in chunks(values):
        yield from conn.execute(query, {"values": list(part)})


@dataclass
class KnownUser:
    id: int
    team_id: int | None
    name: str
    email: str


class Identities:
    """Cached ids of one organization's teams, users and sessions.

    Kept across a writer's batches while nobody else writes (see the writer's
    ``_lock_organization``), and emptied once it holds ``MAX_CACHED`` ids: a server
    that runs for months sees millions of sessions, and the cache would keep them all.
    """

    MAX_CACHED = 100_000  # ids of all kinds: about 27 MB (50k users and 50k sessions measured)

    def __init__(self, org_id: int) -> None:
        self.org_id = org_id
        self.teams: dict[str, int] = {}
        self.users: dict[str, KnownUser] = {}
        self.sessions: dict[str, int] = {}
        self.writes = 0  # statements that changed rows, so a writer knows a batch changed data
        self.version: int | None = None  # the organization's data version the cache matches
        self.lock = threading.Lock()  # one writer at a time uses the cache
        self.state_row_ready = False  # the organization's data-version row exists
        # Batches waiting for the organization's writer (telemetry.ingest.writer).
        self.waiting: list[Any] = []
        self.waiting_lock = threading.Lock()

    @property
    def full(self) -> bool:
        return len(self.teams) + len(self.users) + len(self.sessions) >= self.MAX_CACHED

    def clear(self) -> None:
        self.teams.clear()
        self.users.clear()
        self.sessions.clear()
        self.version = None

    # --- teams ----------------------------------------------------------------

    def ensure_teams(self, conn: Connection, names: Iterable[str]) -> int:
        """Make sure every team exists; return how many were created."""
        missing = sorted({n for n in names if n and n not in self.teams})
        if not missing:
            return 0
        self._load_teams(conn, missing)
        to_create = [n for n in missing if n not in self.teams]
        if to_create:
            rows = [{"org_id": self.org_id, "name": name} for name in to_create]
            insert_ignoring_duplicates(conn, Team.__table__, rows)
            self.writes += 1
            self._load_teams(conn, to_create)
        return len(to_create)

    def _load_teams(self, conn: Connection, names: Sequence[str]) -> None:
        query = select(Team.name, Team.id).where(Team.org_id == self.org_id, one_of(Team.name))
        self.teams.update(tuple(row) for row in rows_in(conn, query, names))

    # --- users ----------------------------------------------------------------

    def load_users(self, conn: Connection, keys: Sequence[str]) -> None:
        columns = (User.external_id, User.id, User.team_id, User.name, User.email)
        query = select(*columns).where(User.org_id == self.org_id, one_of(User.external_id))
        for key, user_id, team_id, name, email in rows_in(conn, query, keys):
            self.users[key] = KnownUser(user_id, team_id, name or "", email or "")

    def ensure_users(self, conn: Connection, records: Sequence[dict[str, Any]]) -> int:
        """Create the users the records name that do not exist yet; return how many."""
        wanted: dict[str, dict[str, Any]] = {}
        for record in records:
            key = record["user_key"]
            if not key:
                continue
            seen = wanted.setdefault(key, {"team": "", "email": "", "name": ""})
            seen["team"] = seen["team"] or record["team_name"]
            seen["email"] = seen["email"] or record["user_email"]
            seen["name"] = seen["name"] or record["user_name"]
        missing = [key for key in wanted if key not in self.users]
        if missing:
            self.load_users(conn, missing)
        to_create = [key for key in missing if key not in self.users]
        if to_create:
            self._create_users(conn, {key: wanted[key] for key in to_create})
        self._fill_in_contact(conn, wanted)
        return len(to_create)

    def _create_users(self, conn: Connection, wanted: dict[str, dict[str, Any]]) -> None:
        # A user first seen in telemetry joins the team its spans name, else "Unassigned",
        # until the user directory says otherwise.
        self.ensure_teams(conn, [w["team"] or UNASSIGNED_TEAM for w in wanted.values()])
        created = now_us()
        rows = [
            {
                "org_id": self.org_id,
                "external_id": key,
                "name": seen["name"],
                "email": seen["email"],
                "company": "",
                "team_id": self.teams[seen["team"] or UNASSIGNED_TEAM],
                "status": str(UserStatus.ACTIVE),
                "created_us": created,
            }
            for key, seen in wanted.items()
        ]
        insert_ignoring_duplicates(conn, User.__table__, rows)
        self.writes += 1
        self.load_users(conn, list(wanted))

    def _fill_in_contact(self, conn: Connection, wanted: dict[str, dict[str, Any]]) -> None:
        """Add a name or email the store lacks; never overwrite what the directory set."""
        for key, seen in wanted.items():
            user = self.users[key]
            values = {}
            if seen["email"] and not user.email:
                values["email"] = user.email = seen["email"]
            if seen["name"] and not user.name:
                values["name"] = user.name = seen["name"]
            if values:
                conn.execute(update(User).where(User.id == user.id).values(**values))
                self.writes += 1

    # --- sessions -------------------------------------------------------------

    def ensure_sessions(self, conn: Connection, records: Sequence[dict[str, Any]]) -> int:
        """Create the sessions the records name that do not exist yet; return how many."""
        owners: dict[str, int | None] = {}
        for record in records:
            key = record["session_key"]
            if key and key not in self.sessions:
                owners[key] = owners.get(key) or record["user_id"]
        if not owners:
            return 0
        if is_postgresql(conn):
            return self._create_sessions_postgresql(conn, owners)
        missing = list(owners)
        self._load_sessions(conn, missing)
        to_create = [key for key in missing if key not in self.sessions]
        if to_create:
            created = now_us()
            rows = [
                {
                    "org_id": self.org_id,
                    "session_key": key,
                    "user_id": owners[key],
                    "created_us": created,
                }
                for key in to_create
            ]
            insert_ignoring_duplicates(conn, Session.__table__, rows)
            self.writes += 1
            self._load_sessions(conn, to_create)
        return len(to_create)

    def _create_sessions_postgresql(self, conn: Connection, owners: dict[str, int | None]) -> int:
        """One statement creates the missing sessions and returns their ids; a second
        reads the ids of those that existed (none, usually: a session is mostly new
        when a batch first names it). Before: look up, insert row by row, look up again."""
        keys = list(owners)
        created = dict(
            conn.exec_driver_sql(
                _CREATE_SESSIONS_POSTGRESQL,
                {
                    "org": self.org_id,
                    "now": now_us(),
                    "keys": keys,
                    "owners": [owners[key] for key in keys],
                },
            ).all()
        )
        if created:
            self.sessions.update(created)
            self.writes += 1
        existing = [key for key in keys if key not in created]
        if existing:
            self._load_sessions(conn, existing)
        return len(created)

    def _load_sessions(self, conn: Connection, keys: Sequence[str]) -> None:
        query = select(Session.session_key, Session.id).where(
            Session.org_id == self.org_id, one_of(Session.session_key)
        )
        self.sessions.update(tuple(row) for row in rows_in(conn, query, keys))

    # --- all at once ----------------------------------------------------------

    def resolve(self, conn: Connection, records: Sequence[dict[str, Any]]) -> int:
        """Set ``user_id``, ``team_id`` and ``session_id`` on every record; return users created.

        A span's team is the team its ``team.name`` attribute names, else its user's team.
        """
        self.ensure_teams(conn, [r["team_name"] for r in records])
        created = self.ensure_users(conn, records)
        for record in records:
            user = self.users.get(record["user_key"]) if record["user_key"] else None
            record["user_id"] = user.id if user else None
            team = record["team_name"]
            record["team_id"] = self.teams[team] if team else (user.team_id if user else None)
        self.ensure_sessions(conn, records)
        for record in records:
            key = record["session_key"]
            record["session_id"] = self.sessions[key] if key else None
        return created
