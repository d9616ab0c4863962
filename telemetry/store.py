"""Small lookups and writes shared by ingestion, the demo generator and the CLI."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Engine, Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from telemetry.models import ModelPrice, Organization, OrgState, Team, Trace
from telemetry.pricing import Price
from telemetry.timeutil import now_us


class UnknownOrganization(LookupError):
    def __init__(self, slug: str, known: Sequence[str]) -> None:
        self.slug = slug
        known_text = ", ".join(known) or "none"
        super().__init__(
            f"organization {slug!r} does not exist (known: {known_text}); "
            f"create it with: python -m telemetry orgs create {slug}"
        )


def organization_slugs(conn: Connection) -> list[str]:
    return list(conn.execute(select(Organization.slug).order_by(Organization.slug)).scalars())


def org_id(conn: Connection, slug: str) -> int:
    """The id of organization ``slug``; raises :class:`UnknownOrganization`."""
    found = conn.execute(select(Organization.id).where(Organization.slug == slug)).scalar()
    if found is None:
        raise UnknownOrganization(slug, organization_slugs(conn))
    return found


def ensure_org(conn: Connection, slug: str, name: str = "") -> int:
    found = conn.execute(select(Organization.id).where(Organization.slug == slug)).scalar()
    if found is not None:
        return found
    return conn.execute(
        insert(Organization).values(slug=slug, name=name or slug, created_us=now_us())
    ).inserted_primary_key[0]


def ensure_team(conn: Connection, org: int, name: str) -> int:
    found = conn.execute(select(Team.id).where(Team.org_id == org, Team.name == name)).scalar()
    if found is not None:
        return found
    return conn.execute(insert(Team).values(org_id=org, name=name)).inserted_primary_key[0]


def team_names(conn: Connection, org: int) -> list[str]:
    return list(
        conn.execute(select(Team.name).where(Team.org_id == org).order_by(Team.name)).scalars()
    )


def price_overrides(conn: Connection, org: int) -> dict[str, Price]:
    rows = conn.execute(select(ModelPrice).where(ModelPrice.org_id == org)).mappings()
    return {
        row["model"]: Price(
            input=row["input_per_mtok"],
            output=row["output_per_mtok"],
            cache_read=row["cache_read_per_mtok"],
            cache_write=row["cache_write_per_mtok"],
        )
        for row in rows
    }


def insert_ignoring_duplicates(conn: Connection, table: Table, rows: Iterable[dict]) -> None:
    """Insert rows, silently skipping any that collide with a unique key.

    Returns nothing on purpose: drivers disagree on the row count of a
    multi-row insert (PostgreSQL's executemany reports -1), so callers that
    need to know what was new must look it up.
    """
    rows = list(rows)
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(table).on_conflict_do_nothing(), rows)


# PostgreSQL: the row ids of an organization's traces among some trace ids. The inner
# query names the trace id alone, so the unique (trace_id, org_id) index (migration
# m023) is the only index that can answer it, one probe per id, whatever the planner's
# statistics say; OFFSET 0 keeps the organization's condition outside (pushed inside,
# it would let the planner probe an index of the organization's traces instead, and
# read all of them for each id when its statistics do not show the organization's
# traces: a new store, or a new organization in a large one). Parameters: the trace
# ids (a list), the organization's id.
TRACE_PKS_POSTGRESQL = (
    "SELECT v.trace_id, t.id FROM unnest(%s::text[]) AS v(trace_id) CROSS JOIN LATERAL "
    "(SELECT id, org_id FROM trace WHERE trace_id = v.trace_id OFFSET 0) AS t "
    "WHERE t.org_id = %s"
)


def trace_pk(conn: Connection, org: int, trace_id: str) -> int | None:
    """The row id of the organization's trace ``trace_id``; None if it has none such."""
    if conn.dialect.name == "postgresql":
        found = conn.exec_driver_sql(TRACE_PKS_POSTGRESQL, ([trace_id], org)).first()
        return None if found is None else found[1]
    query = select(Trace.id).where(Trace.org_id == org, Trace.trace_id == trace_id)
    return conn.execute(query).scalar()


def bump_data_version(conn: Connection, org: int) -> int:
    """Mark the organization's data as changed; return its new version. Call inside the
    writing transaction.

    Its first statement is a write, so it takes the organization's write lock (a row
    lock on PostgreSQL, the database lock on SQLite) before the transaction reads
    anything. Each change adds one, so a writer that finds the version it left plus one
    knows nobody else wrote meanwhile. Whatever deletes rows a writer may point to
    (traces, users, sessions) calls it before reading what to delete: on PostgreSQL
    no foreign key checks an observation's trace nor a trace's user, team or session
    (migrations m025, m026), so this lock is what keeps a writer from adding spans to
    a trace being deleted, or runs to a user being forgotten. A counter starts at
    the current time in microseconds: a change takes longer than a microsecond, so an
    organization deleted and created again starts above every version the old one
    reached, and a cache keyed on the old numbers can never serve stale results.
    """
    version = conn.execute(_INCREMENT, {"org": org, "now": now_us()}).scalar()
    if version is None:  # a new organization (or one created concurrently: then it counts too)
        create_data_version_row(conn, org)
        version = conn.execute(_INCREMENT, {"org": org, "now": now_us()}).scalar_one()
    return version


_INCREMENT = (
    update(OrgState)
    .where(OrgState.org_id == bindparam("org"))
    .values(data_version=OrgState.data_version + 1, updated_us=bindparam("now"))
    .returning(OrgState.data_version)
)


def create_data_version_row(conn: Connection, org: int) -> None:
    """The organization's version counter, starting at the clock (see bump_data_version);
    nothing if it exists."""
    start = now_us()
    row = {"org_id": org, "data_version": start, "updated_us": start}
    insert_ignoring_duplicates(conn, OrgState.__table__, [row])


def data_version(engine: Engine, slug: str) -> int:
    """The organization's change counter (0 when it has never been written to)."""
    with engine.connect() as conn:
        version = conn.execute(
            select(OrgState.data_version)
            .join(Organization, Organization.id == OrgState.org_id)
            .where(Organization.slug == slug)
        ).scalar()
    return int(version or 0)


def org_has_traces(conn: Connection, slug: str) -> bool:
    """Whether organization ``slug`` exists and holds at least one trace."""
    found = conn.execute(
        select(Trace.id)
        .join(Organization, Organization.id == Trace.org_id)
        .where(Organization.slug == slug)
        .limit(1)
    ).first()
    return found is not None


def environment_names(conn: Connection, slug: str, teams: Sequence[str] | None = None) -> list[str]:
    """Environments seen on the organization's traces (of ``teams`` only, when given)."""
    query = select(Trace.environment).distinct().where(Trace.org_id == org_id(conn, slug))
    if teams is not None:
        query = query.join(Team, Team.id == Trace.team_id).where(Team.name.in_(list(teams)))
    return sorted(name for name in conn.execute(query).scalars() if name)
