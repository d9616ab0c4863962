"""Apply user-directory entries (CSV rows, JSONL ``user``/``team`` records) to the store.

The directory is the authority on who a user is: it creates users and teams and
overwrites name, email, company, team and status with every non-empty value it
gives (an empty cell leaves the stored value alone). When it moves a user to
another team, the user's traces and observations that were counted under the
user's old team (or under no team) move with the user, so that per-team totals
follow the directory; spans that named a different team explicitly
(``team.name``) keep it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, text, update

from telemetry.ingest.identities import UNASSIGNED_TEAM, Identities, one_of, rows_in
from telemetry.models import User, UserStatus
from telemetry.rollups import refresh_rollups, users_days
from telemetry.timeutil import now_us

USER_STATUSES = tuple(str(s) for s in UserStatus)
_MOVES_PER_STATEMENT = 500  # 3 parameters each: well under every backend's limit
NO_TEAM = -1  # a NULL team id in the moves' VALUES list (never a real id)


@dataclass(frozen=True)
class DirectoryUser:
    external_id: str
    name: str = ""
    email: str = ""
    company: str = ""
    team: str = ""
    status: str = ""

    def __post_init__(self) -> None:
        if not self.external_id:
            raise ValueError("the user id is empty")
        if self.status and self.status not in USER_STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {', '.join(USER_STATUSES)}")
        for name, limit in (("external_id", 256), ("name", 256), ("email", 256), ("company", 256)):
            if len(getattr(self, name)) > limit:
                raise ValueError(f"{name} is longer than {limit} characters")
        if len(self.team) > 200:
            raise ValueError("team is longer than 200 characters")


@dataclass(frozen=True)
class DirectoryTeam:
    name: str

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > 200:
            raise ValueError("a team name must have 1 to 200 characters")


_USER_COLUMNS = (
    User.id,
    User.external_id,
    User.name,
    User.email,
    User.company,
    User.team_id,
    User.status,
)


def apply_directory(
    conn: Connection,
    identities: Identities,
    entries: Sequence[DirectoryUser | DirectoryTeam],
    outcome,
) -> None:
    """Upsert teams and users (the last entry for a user wins); count into ``outcome``."""
    users = {e.external_id: e for e in entries if isinstance(e, DirectoryUser)}
    team_names = [e.name for e in entries if isinstance(e, DirectoryTeam)]
    team_names += [u.team for u in users.values() if u.team]
    if any(not u.team for u in users.values()):
        team_names.append(UNASSIGNED_TEAM)
    outcome.teams_created += identities.ensure_teams(conn, team_names)
    if not users:
        return
    stored = _stored_users(conn, identities.org_id, list(users))
    new = [u for key, u in users.items() if key not in stored]
    if new:
        _create(conn, identities, new)
        outcome.users_created += len(new)
    moves: list[tuple[int, int | None, int]] = []  # (user id, old team id, new team id)
    for key, entry in users.items():
        if key in stored and _update(conn, identities, stored[key], entry, moves):
            outcome.users_updated += 1
    _move_history(conn, identities.org_id, moves)
    identities.load_users(conn, list(users))


def _stored_users(conn: Connection, org_id: int, keys: list[str]) -> dict[str, dict]:
    query = select(*_USER_COLUMNS).where(User.org_id == org_id, one_of(User.external_id))
    return {row.external_id: row._asdict() for row in rows_in(conn, query, keys)}


def _create(conn: Connection, identities: Identities, entries: list[DirectoryUser]) -> None:
    created = now_us()
    rows = [
        {
            "org_id": identities.org_id,
            "external_id": e.external_id,
            "name": e.name,
            "email": e.email,
            "company": e.company,
            "team_id": identities.teams[e.team or UNASSIGNED_TEAM],
            "status": e.status or str(UserStatus.ACTIVE),
            "created_us": created,
        }
        for e in entries
    ]
    conn.execute(insert(User), rows)


def _update(
    conn: Connection, identities: Identities, row: dict, entry: DirectoryUser, moves: list
) -> bool:
    values = {
        name: getattr(entry, name)
        for name in ("name", "email", "company", "status")
        if getattr(entry, name) and getattr(entry, name) != row[name]
    }
    new_team = identities.teams[entry.team] if entry.team else row["team_id"]
    if new_team != row["team_id"]:
        values["team_id"] = new_team
        moves.append((row["id"], row["team_id"], new_team))
    if not values:
        return False
    conn.execute(update(User).where(User.id == row["id"]).values(**values))
    return True


def _move_history(conn: Connection, org_id: int, moves: list[tuple[int, int | None, int]]) -> None:
    """Move the traces and observations of every moved user to their new team, at once.

    One UPDATE per table (per 500 users) with the moves as a VALUES list, and one
    rollup refresh of every day any moved user has: a directory import moving a
    whole department costs a few statements, not a few per person.
    """
    if not moves:
        return
    days = users_days(conn, org_id, [user_id for user_id, _old, _new in moves])
    for start in range(0, len(moves), _MOVES_PER_STATEMENT):
        part = moves[start : start + _MOVES_PER_STATEMENT]
        for table in ("trace", "observation"):
            conn.execute(*moved_team_update(table, org_id, part))
    refresh_rollups(conn, org_id, days)  # the per-team figures of those days changed


def moved_team_update(table: str, org_id: int, moves: list[tuple[int, int | None, int]]):
    """UPDATE ``table`` SET team_id = new, for rows of each moved user still on their old team.

    Rows counted under the user's old team (or under none) follow the user; rows whose
    span named another team explicitly keep it. The rows are found by id through the
    (organization, user) index: with the team condition beside it, SQLite would
    rather scan an index covering the whole organization.
    """
    values = ", ".join(f"(:u{n}, :o{n}, :n{n})" for n in range(len(moves)))
    users = ", ".join(f":u{n}" for n in range(len(moves)))
    params: dict[str, int | None] = {"org": org_id}
    for n, (user_id, old, new) in enumerate(moves):
        params.update({f"u{n}": user_id, f"o{n}": NO_TEAM if old is None else old, f"n{n}": new})
    statement = text(
        f"WITH moved (user_id, old_team, new_team) AS (VALUES {values}) "
        f"UPDATE {table} SET team_id = "
        f"(SELECT new_team FROM moved WHERE moved.user_id = {table}.user_id) "
        f"WHERE id IN (SELECT id FROM {table} WHERE org_id = :org AND user_id IN ({users})) "
        f"AND (user_id, COALESCE(team_id, {NO_TEAM})) IN (SELECT user_id, old_team FROM moved)"
    )
    return statement, params
