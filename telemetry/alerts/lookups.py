"""Checks that the teams, agent, model and user a rule or budget names exist, with suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from sqlalchemy import Connection

from telemetry.queries.dimensions import org_values


class UnknownName(ValueError):
    """A scope names a team, agent, model or user the organization does not have."""


def check_names(conn: Connection, org_id: int, kind: str, names: Sequence[str]) -> None:
    """Raise :class:`UnknownName` for the first of ``names`` the organization has no ``kind`` of."""
    if not names:
        return
    known = org_values(conn, org_id, kind)
    for name in names:
        if name not in known:
            raise UnknownName(_unknown(kind, name, known))


def _unknown(kind: str, name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    if not known:
        return f"unknown {kind} {name!r}: this organization has no {kind} yet"
    shown = ", ".join(known[:12]) + (" ..." if len(known) > 12 else "")
    return f"unknown {kind} {name!r}{hint} (known: {shown})"


def check_scope(
    conn: Connection,
    org_id: int,
    teams: Sequence[str] | None,
    agent: str,
    model: str,
    user: str,
) -> None:
    """Every name of a scope exists in the organization (agents and models: seen in its data)."""
    check_names(conn, org_id, "team", teams or ())
    check_names(conn, org_id, "agent", [agent] if agent else ())
    check_names(conn, org_id, "model", [model] if model else ())
    check_names(conn, org_id, "user", [user] if user else ())
