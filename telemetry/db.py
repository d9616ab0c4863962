"""The engine factory and the schema migrations that run on every start.

SQLite is the default (``data/telemetry.db``); ``TELEMETRY_DATABASE_URL`` points
the whole program at PostgreSQL instead. Everything else receives the engine
built here rather than building its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, insert, inspect, select, text
from sqlmodel import SQLModel

from telemetry import models
from telemetry.private_files import private_file
from telemetry.timeutil import now_us

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "telemetry.db"
DEFAULT_ORG = "default"
DATABASE_URL_ENV = "TELEMETRY_DATABASE_URL"


def database_url() -> str:
    """The configured URL: ``TELEMETRY_DATABASE_URL`` or the local SQLite file."""
    return os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def make_engine(url: str | None = None) -> Engine:
    """Build the engine for ``url`` (default: :func:`database_url`)."""
    url = url or database_url()
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1].split("?", 1)[0]
        options = {}
        if path and path != ":memory:":
            private_file(Path(path))  # prompts and key hashes: readable by the owner only
            # LIFO: the most recently used connection is handed out again, so the one
            # that writes keeps its warm page cache (telemetry.ingest.writer enlarges it)
            # and the others stay small.
            options["pool_use_lifo"] = True
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **options
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the dashboard read while an import writes; the busy timeout makes a
    # second writer wait instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Copy the WAL into the database every ~40 MB instead of every 4 MB: a busy day's
    # ingest batches each rewrite many of the same index pages, which a checkpoint then
    # copies once instead of once per batch (and with fewer fsyncs).
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


# --- migrations -------------------------------------------------------------

Migration = Callable[[Connection], None]


class Migrations:
    """Named schema steps applied once each, in order, recorded in ``schema_migration``."""

    def __init__(self) -> None:
        self._steps: list[tuple[str, Migration]] = []

    def __call__(self, fn: Migration) -> Migration:
        if any(name == fn.__name__ for name, _ in self._steps):
            raise ValueError(f"migration {fn.__name__!r} is registered twice")
        self._steps.append((fn.__name__, fn))
        return fn

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self._steps]

    def pending(self, engine: Engine) -> list[str]:
        with engine.connect() as conn:
            _ensure_migration_table(conn)
            done = set(conn.execute(text("SELECT name FROM schema_migration")).scalars())
        return [name for name in self.names if name not in done]

    def apply(self, engine: Engine, *, stop_before: str | None = None) -> list[str]:
        """Apply every pending step (each in its own transaction); return their names."""
        applied = []
        for name, step in self._steps:
            if name == stop_before:
                break
            with engine.begin() as conn:
                _ensure_migration_table(conn)
                row = conn.execute(
                    text("SELECT 1 FROM schema_migration WHERE name = :n"), {"n": name}
                ).first()
                if row:
                    continue
                step(conn)
                conn.execute(
                    text("INSERT INTO schema_migration (name, applied_us) VALUES (:n, :t)"),
                    {"n": name, "t": now_us()},
                )
                applied.append(name)
        return applied


def _ensure_migration_table(conn: Connection) -> None:
    conn.execute(
        text(
            "CREATE TABLE IF NOT EXISTS schema_migration "
            "(name VARCHAR(200) PRIMARY KEY, applied_us BIGINT NOT NULL)"
        )
    )


migrations = Migrations()


@migrations
def m001_initial_tables(conn: Connection) -> None:
    SQLModel.metadata.create_all(conn, tables=[t for t in SQLModel.metadata.sorted_tables])


@migrations
def m002_default_organization(conn: Connection) -> None:
    exists = conn.execute(
        select(models.Organization.id).where(models.Organization.slug == DEFAULT_ORG)
    ).first()
    if not exists:
        conn.execute(
            insert(models.Organization).values(
                slug=DEFAULT_ORG, name="Default organization", created_us=now_us()
            )
        )


def init_store(engine: Engine) -> list[str]:
    """Bring the schema up to date; safe to call on every start."""
    return migrations.apply(engine)


@migrations
def m003_llm_call_cover_index(conn: Connection) -> None:
    # The token and cost queries (telemetry.queries) read only LLM calls, and also
    # reasoning tokens and the agent: a partial index holding exactly those rows and
    # columns answers them without touching the table or the tool/agent spans.
    kinds = ", ".join(f"'{kind}'" for kind in models.LLM_CALL_KINDS)
    conn.execute(
        text(
            "CREATE INDEX IF NOT EXISTS ix_obs_llm_cover ON observation "
            "(org_id, start_day, kind, team_id, environment, provider, model, agent, "
            "cost_source, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, "
            f"reasoning_tokens, cost_usd) WHERE kind IN ({kinds})"
        )
    )


@migrations
def m004_session_reference_indexes(conn: Connection) -> None:
    # Deleting a session makes the database look for traces and observations that
    # still point at it; without an index on the referencing column that is a full
    # table scan per session (minutes when the demo organization is removed).
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_trace_session ON trace (session_id)"))
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_obs_session ON observation (session_id)"))


@migrations
def m005_llm_call_user_cover_index(conn: Connection) -> None:
    # The Users and Billing pages sum each user's LLM calls of a period (cost, tokens,
    # priced share); no other index holds the user with the cost, so without this one
    # every call of the period is read from the table (seconds at a million traces).
    kinds = ", ".join(f"'{kind}'" for kind in models.LLM_CALL_KINDS)
    conn.execute(
        text(
            "CREATE INDEX IF NOT EXISTS ix_obs_llm_user_cover ON observation "
            "(org_id, start_day, user_id, kind, team_id, environment, cost_source, "
            f"input_tokens, output_tokens, cost_usd) WHERE kind IN ({kinds})"
        )
    )


@migrations
def m006_daily_rollups(conn: Connection) -> None:
    # The dashboard's aggregates read per-day rollups (telemetry.rollups) instead of
    # sorting millions of trace and observation rows; fill them from what is stored.
    from telemetry.rollups import rebuild_rollups

    tables = [models.TraceDaily.__table__, models.LlmDaily.__table__]
    SQLModel.metadata.create_all(conn, tables=tables)
    for org in conn.execute(select(models.Organization.id)).scalars().all():
        rebuild_rollups(conn, org)


@migrations
def m007_analytics_rollups(conn: Connection) -> None:
    # The Analytics page reads per-day rollups of tool calls, commands and sessions, an
    # hourly one of traces, and the output tokens of timed LLM calls (telemetry.rollups)
    # instead of every trace and observation of a period; fill them from what is stored.
    from sqlalchemy import inspect

    from telemetry.rollups import rebuild_rollups

    tables = [
        models.ToolDaily.__table__,
        models.CommandDaily.__table__,
        models.SessionDaily.__table__,
        models.TraceHourly.__table__,
    ]
    SQLModel.metadata.create_all(conn, tables=tables)
    llm_columns = {column["name"] for column in inspect(conn).get_columns("llm_daily")}
    if "timed_output_tokens" not in llm_columns:
        conn.execute(
            text("ALTER TABLE llm_daily ADD COLUMN timed_output_tokens BIGINT NOT NULL DEFAULT 0")
        )
    for org in conn.execute(select(models.Organization.id)).scalars().all():
        rebuild_rollups(conn, org)


@migrations
def m008_drilldown_list_indexes(conn: Connection) -> None:
    # The Traces list pages through a period newest first (ORDER BY start_us LIMIT n):
    # without (org_id, start_us) every trace of the period is sorted to show 50 of them.
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_trace_org_start ON trace (org_id, start_us)"))


@migrations
def m009_drilldown_session_probe_index(conn: Connection) -> None:
    # The Sessions list probes one session's traces of the period (is this its first
    # trace? has it an error, this agent, this user?). With every probed column in the
    # index, each probe is a few index entries; without them SQLite prefers the status
    # index and scans every error trace of the period per session.
    conn.execute(text("DROP INDEX IF EXISTS ix_trace_org_session_start"))  # an early m008 made it
    conn.execute(
        text(
            "CREATE INDEX IF NOT EXISTS ix_trace_org_session_probe ON trace "
            "(org_id, session_id, start_us, team_id, environment, status, agent, user_id)"
        )
    )


@migrations
def m010_user_day_start_index(conn: Connection) -> None:
    # The Users table looks up each user's first and last trace start within one day.
    # With only (org_id, user_id, start_day) indexed, SQLite answered MIN/MAX(start_us)
    # from the (org_id, start_us) index of m008 instead, walking the whole organization
    # per user (10 s for 47 users at 1M traces); with start_us in this index it is a seek.
    conn.execute(text("DROP INDEX IF EXISTS ix_trace_org_user_day"))
    conn.execute(
        text(
            "CREATE INDEX IF NOT EXISTS ix_trace_org_user_day_start "
            "ON trace (org_id, user_id, start_day, start_us)"
        )
    )


@migrations
def m011_llm_latency_index(conn: Connection) -> None:
    # Latency percentiles (Analytics' model runs) need every LLM call's duration in the
    # period; with start and end in a partial index of LLM calls SQLite reads them from
    # the index alone instead of 2.4M table rows a year (model runs 7.3 s -> 2.9 s at 1M).
    kinds = ", ".join(f"'{kind}'" for kind in models.LLM_CALL_KINDS)
    conn.execute(
        text(
            "CREATE INDEX IF NOT EXISTS ix_obs_llm_latency ON observation "
            f"(org_id, start_day, kind, provider, model, start_us, end_us) WHERE kind IN ({kinds})"
        )
    )


@migrations
def m012_job_state(conn: Connection) -> None:
    # Background jobs (telemetry.jobs) claim each tick in this table, so that one
    # replica runs it even when several servers share the store.
    SQLModel.metadata.create_all(conn, tables=[models.JobState.__table__])


@migrations
def m013_login_sessions_and_throttle(conn: Connection) -> None:
    # Logins become server-side records that can be revoked (telemetry.sessions), and
    # wrong passwords slow their sender down instead of locking the account
    # (telemetry.login_throttle): both survive restarts and hold across replicas.
    tables = [models.LoginSession.__table__, models.LoginThrottle.__table__]
    SQLModel.metadata.create_all(conn, tables=tables)


@migrations
def m014_alerts(conn: Connection) -> None:
    # Alert rules, their states and history, channels, deliveries and budgets
    # (telemetry.alerts), and the admin settings they read (telemetry.settings).
    from telemetry.alerts.tables import ALERT_TABLES

    SQLModel.metadata.create_all(conn, tables=[models.AppSetting.__table__, *ALERT_TABLES])


@migrations
def m015_rollup_unique_keys(conn: Connection) -> None:
    # Ingest keeps the rollups up to date with additive upserts (telemetry.rollup_deltas),
    # whose ON CONFLICT names a unique index over each rollup's key (NULL team and user
    # ids as -1). Rollups rebuilt by any earlier code hold one row per key; should any
    # organization have a key twice, rebuilding its rollups first makes it so. (A rollup
    # table a later migration creates gets its index there.)
    from sqlalchemy import inspect

    from telemetry.rollup_deltas import key_expression, unique_key_index_sql
    from telemetry.rollup_tables import ROLLUPS
    from telemetry.rollups import rebuild_rollups

    existing = set(inspect(conn).get_table_names())
    rollups = [rollup for rollup in ROLLUPS if rollup.table.name in existing]
    doubled: set[int] = set()
    for rollup in rollups:
        keys = ", ".join(key_expression(rollup, name) for name in rollup.key_names)
        found = conn.execute(
            text(
                "SELECT DISTINCT org_id FROM (SELECT org_id, count(*) AS n "
                f'FROM "{rollup.table.name}" GROUP BY {keys}) AS grouped WHERE n > 1'
            )
        )
        doubled.update(found.scalars())
    for org in sorted(doubled):
        rebuild_rollups(conn, org)
    for rollup in rollups:
        conn.execute(text(unique_key_index_sql(rollup)))


@migrations
def m016_lighter_ingest_indexes(conn: Connection) -> None:
    # Every index is work for each span stored. Since the rollups, no query of the
    # dashboard, reports or CLI chooses these three (their query plans, captured over
    # the test suite, use others): ix_obs_llm_cover (m003) lost its token and cost
    # queries to llm_daily, ix_obs_org_model served no query, and ix_trace_org_session
    # is a prefix of ix_trace_org_session_probe (m009).
    for name in ("ix_obs_llm_cover", "ix_obs_org_model", "ix_trace_org_session"):
        conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
    # ix_obs_org_day_cover ended with token counts and cost, which only the token
    # queries now served by llm_daily read. Ordered by them, a busy day's new rows
    # landed on pages all over the day, so each batch wrote more pages than the last;
    # its remaining readers (tool calls, the first and last day) need only the prefix.
    # The same holds for ix_obs_llm_user_cover (m005): its token and cost columns served
    # the per-user sums that llm_daily now answers; its readers filter on the prefix.
    kinds = ", ".join(f"'{kind}'" for kind in models.LLM_CALL_KINDS)
    lighter = (
        (
            "ix_obs_org_day_cover",
            "ix_obs_org_day_kind",
            "(org_id, start_day, kind, team_id, environment)",
        ),
        (
            "ix_obs_llm_user_cover",
            "ix_obs_llm_user",
            "(org_id, start_day, user_id, kind, team_id, environment, cost_source) "
            f"WHERE kind IN ({kinds})",
        ),
    )
    for old, new, definition in lighter:
        conn.execute(text(f"DROP INDEX IF EXISTS {old}"))
        conn.execute(text(f"CREATE INDEX IF NOT EXISTS {new} ON observation {definition}"))


@migrations
def m017_duplicate_llm_calls(conn: Connection) -> None:
    # An LLM call reported twice (an SDK tracing itself inside an instrumentation) is
    # stored as kind "duplicate" and names the call it repeats (telemetry.duplicates).
    # Rows stored before keep their kind; a trace is classified when a span of it arrives.
    from sqlalchemy import inspect

    columns = {column["name"] for column in inspect(conn).get_columns("observation")}
    if "duplicate_of" not in columns:
        conn.execute(
            text("ALTER TABLE observation ADD COLUMN duplicate_of VARCHAR(32) NOT NULL DEFAULT ''")
        )


@migrations
def m018_overflow_safe_sums(conn: Connection) -> None:
    # Ingest bounds (telemetry.ingest.bounds) keep token sums of a billion calls within
    # BIGINT, but not duration sums: the rollups' duration sums become floats, and a
    # trace's code lines (summed over its spans) BIGINT. SQLite stores any integer in
    # 64 bits and the sums cast to REAL, so only PostgreSQL's column types change.
    if conn.dialect.name != "postgresql":
        return
    changes = [
        (table, "duration_us_sum", "double precision")
        for table in ("trace_daily", "llm_daily", "tool_daily", "command_daily")
    ]
    changes += [("trace", name, "bigint") for name in ("code_lines_added", "code_lines_removed")]
    for table, column, wanted in changes:
        current = conn.execute(
            text(
                "SELECT data_type FROM information_schema.columns "
                "WHERE table_name = :table AND column_name = :column"
            ),
            {"table": table, "column": column},
        ).scalar()
        if current is not None and current != wanted:
            conn.execute(text(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE {wanted}'))


@migrations
def m019_retention_policy(conn: Connection) -> None:
    # Per-organization retention (telemetry.retention): the days kept and the horizons
    # the purges reached, below which the rollups outlive their base rows.
    SQLModel.metadata.create_all(conn, tables=[models.RetentionPolicy.__table__])


@migrations
def m020_scores(conn: Connection) -> None:
    # Quality (telemetry.scores): scores of traces, spans and sessions, the names an
    # organization accepts, and each trace's latest verdict, kept as scores arrive; the
    # trace row carries its verdict too, with a partial index over the rated runs only.
    from sqlalchemy import inspect

    tables = [models.Score.__table__, models.ScoreConfig.__table__, models.TraceQuality.__table__]
    SQLModel.metadata.create_all(conn, tables=tables)
    columns = {column["name"] for column in inspect(conn).get_columns("trace")}
    for name in ("verdict", "reviewed"):
        if name not in columns:
            conn.execute(text(f"ALTER TABLE trace ADD COLUMN {name} INTEGER"))
    indexed = ", ".join(models.TRACE_VERDICT_INDEX_COLUMNS)
    conn.execute(
        text(
            f"CREATE INDEX IF NOT EXISTS ix_trace_org_day_verdict ON trace ({indexed}) "
            "WHERE verdict IS NOT NULL"
        )
    )


@migrations
def m021_audit_chain(conn: Connection) -> None:
    # The audit trail becomes one hash chain (telemetry.audit) and events about the
    # dashboard itself (logins) lose their organization: org_id becomes nullable, each
    # event keeps its organization's slug, and existing events are chained once.
    from telemetry.audit import chain_existing

    columns = {column["name"] for column in inspect(conn).get_columns("audit_event")}
    if "seq" not in columns:
        if conn.dialect.name == "sqlite":
            _rebuild_sqlite_audit_table(conn)
        else:
            conn.execute(text("ALTER TABLE audit_event ALTER COLUMN org_id DROP NOT NULL"))
            for name, kind in _AUDIT_CHAIN_COLUMNS:
                conn.execute(
                    text(f"ALTER TABLE audit_event ADD COLUMN IF NOT EXISTS {name} {kind}")
                )
            conn.execute(
                text("CREATE UNIQUE INDEX IF NOT EXISTS ix_audit_seq ON audit_event (seq)")
            )
    SQLModel.metadata.create_all(conn, tables=[models.AuditChain.__table__])
    if conn.execute(select(models.AuditChain.id)).first() is None:
        conn.execute(insert(models.AuditChain).values(id=1, length=0, last_hash=""))
    conn.execute(
        text(
            "UPDATE audit_event SET org_slug = (SELECT slug FROM organization "
            "WHERE organization.id = audit_event.org_id) WHERE org_id IS NOT NULL AND seq IS NULL"
        )
    )
    # Logins were filed under an organization; they are about the dashboard itself.
    conn.execute(
        text(
            "UPDATE audit_event SET org_id = NULL, org_slug = '' WHERE target = 'dashboard' "
            "AND action IN ('login', 'logout', 'login_failed') AND seq IS NULL"
        )
    )
    chain_existing(conn)


_AUDIT_CHAIN_COLUMNS = (
    ("org_slug", "VARCHAR(64) NOT NULL DEFAULT ''"),
    ("seq", "BIGINT"),
    ("prev_hash", "VARCHAR(64)"),
    ("hash", "VARCHAR(64)"),
)


def _rebuild_sqlite_audit_table(conn: Connection) -> None:
    # SQLite cannot drop a NOT NULL constraint: copy into a table of the new shape.
    conn.execute(text("DROP INDEX IF EXISTS ix_audit_org_day"))
    conn.execute(text("ALTER TABLE audit_event RENAME TO audit_event_old"))
    SQLModel.metadata.create_all(conn, tables=[models.AuditEvent.__table__])
    kept = "id, org_id, ts_us, day, actor, action, target, details"
    conn.execute(
        text(f"INSERT INTO audit_event ({kept}, org_slug) SELECT {kept}, '' FROM audit_event_old")
    )
    conn.execute(text("DROP TABLE audit_event_old"))


# Observation columns that copy their trace's references (telemetry.ingest.spans).
_OBSERVATION_COPIED_REFERENCES = ("org_id", "user_id", "team_id", "session_id")


@migrations
def m022_postgres_observation_reference_checks(conn: Connection) -> None:
    # On PostgreSQL every foreign key is a trigger that looks up the parent row for
    # each inserted row: five lookups per stored span, measured at 40% of the server's
    # CPU per span (bench/bench_ingest.py). Four of them check columns the writer
    # copies from the span's trace row, whose own keys are checked when it is written
    # (and kept equal by the writer, see `rollups check`). (The key to the trace went
    # in m025.) SQLite's checks cost nothing measurable and stay, so the test suite's
    # SQLite runs still catch a change that would leave an observation pointing nowhere.
    if conn.dialect.name != "postgresql":
        return
    for name, columns in foreign_keys(conn, "observation").items():
        if columns <= set(_OBSERVATION_COPIED_REFERENCES):
            conn.execute(text(f'ALTER TABLE observation DROP CONSTRAINT "{name}"'))


def foreign_keys(conn: Connection, table: str) -> dict[str, set[str]]:
    """PostgreSQL: the foreign keys of ``table``, as their columns by constraint name."""
    rows = conn.execute(
        text(
            "SELECT c.conname, a.attname FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) "
            "WHERE c.conrelid = CAST(:table AS regclass) AND c.contype = 'f'"
        ),
        {"table": f'"{table}"'},
    ).all()
    found: dict[str, set[str]] = {}
    for name, column in rows:
        found.setdefault(name, set()).add(column)
    return found


# PostgreSQL: the unique index of trace ids, trace id first (see m023).
TRACE_ID_INDEX = "ux_trace_traceid_org"


@migrations
def m023_postgres_trace_id_first(conn: Connection) -> None:
    # The writer looks up a batch's trace ids among the stored traces. Keyed (org_id,
    # trace_id), the unique index starts like every other index of trace, and when the
    # planner's statistics do not show the organization's traces (a new store before
    # autovacuum first analyzes it, a new organization in a large table) it costs those
    # indexes alike and may probe one of the others, reading all the organization's
    # traces for each id: 99 ms instead of 0.3 ms for 300 ids at 3,000 traces, and
    # growing with them. Keyed (trace_id, org_id), a lookup by trace id alone has this
    # index and no other to use (telemetry.ingest.spans). SQLite's planner prefers the
    # index matching more of the conditions and keeps the key as the model declares it.
    if conn.dialect.name != "postgresql":
        return
    conn.execute(
        text(f"CREATE UNIQUE INDEX IF NOT EXISTS {TRACE_ID_INDEX} ON trace (trace_id, org_id)")
    )
    conn.execute(text("ALTER TABLE trace DROP CONSTRAINT IF EXISTS uq_trace_org_traceid"))
    # Building the index told the planner how many traces there are but not that trace
    # ids are distinct: until autovacuum analyzes the table, it guessed that an id
    # matched 0.5% of them and read the whole table for each id instead.
    conn.execute(text("ANALYZE trace"))


@migrations
def m024_postgres_rollup_organization_checks(conn: Connection) -> None:
    # A rollup row's organization key was checked against the organization table for
    # every row an ingest upsert inserts: about one lookup per stored span on a year of
    # a small team's data, 5% of a 1M-span file import's time (bench/bench_ingest.py).
    # A rollup row is an aggregate of base rows of its organization, whose traces'
    # keys are checked when they are written; `rollups check` compares the two, and
    # deleting an organization deletes its rollup rows by name (telemetry.orgs). As in
    # m022, SQLite keeps the checks, which cost it nothing measurable.
    from telemetry.rollup_tables import ROLLUPS

    if conn.dialect.name != "postgresql":
        return
    for rollup in ROLLUPS:
        for name in foreign_keys(conn, rollup.table.name):
            conn.execute(text(f'ALTER TABLE "{rollup.table.name}" DROP CONSTRAINT "{name}"'))


@migrations
def m025_postgres_observation_trace_check(conn: Connection) -> None:
    # The last foreign key of observation, to its trace, was a lookup (and a lock of the
    # trace row) per stored span: 14% of a 1M-span file import into PostgreSQL. The
    # writer takes a span's trace row id from the row it creates or finds while holding
    # the organization's lock, and whatever deletes traces takes that lock first
    # (telemetry.store.bump_data_version), so no span is added to a trace being deleted;
    # `rollups check` reports an observation whose trace is missing. SQLite keeps the
    # check, so the test suite's SQLite runs still catch a change that breaks this.
    if conn.dialect.name != "postgresql":
        return
    for name, columns in foreign_keys(conn, "observation").items():
        if columns == {"trace_pk"}:
            conn.execute(text(f'ALTER TABLE observation DROP CONSTRAINT "{name}"'))


@migrations
def m026_postgres_trace_reference_checks(conn: Connection) -> None:
    # A trace row's organization, user, team and session were each looked up (and the
    # parent row locked) for every trace stored: 12% of a 1M-span file import into
    # PostgreSQL (bench/bench_ingest.py). The writer takes these ids from its cache
    # or creates them while holding the organization's lock, and emptied that cache
    # whenever someone else changed the organization (telemetry.ingest.writer); every
    # code path that deletes users, sessions or organizations takes the same lock
    # first (telemetry.store.bump_data_version). `rollups check` reports a trace whose
    # user, team or session is missing. SQLite keeps the checks, as in m022 and m025.
    if conn.dialect.name != "postgresql":
        return
    for name in foreign_keys(conn, "trace"):
        conn.execute(text(f'ALTER TABLE trace DROP CONSTRAINT "{name}"'))
