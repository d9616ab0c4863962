"""The SQLModel tables of the store (see docs/metrics.md, "Entities", for what each entity means).

Event times are epoch microseconds (UTC) in BigInteger columns. Traces and
observations also carry integer buckets (day, hour, month) so that dashboard
queries filter and group on indexed integers.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import BigInteger, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class TraceStatus(StrEnum):
    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    RUNNING = "running"


class SpanStatus(StrEnum):
    UNSET = "unset"
    OK = "ok"
    ERROR = "error"


class ObservationKind(StrEnum):
    GENERATION = "generation"
    EMBEDDING = "embedding"
    TOOL = "tool"
    AGENT = "agent"
    RETRIEVER = "retriever"
    SPAN = "span"
    EVENT = "event"
    # An LLM call reported twice (telemetry.duplicates): shown, never counted.
    DUPLICATE = "duplicate"


# LLM calls: the only observations whose tokens and cost are counted (agent spans
# often repeat their children's usage, which would count it twice).
LLM_CALL_KINDS = (ObservationKind.GENERATION, ObservationKind.EMBEDDING)
# The token counts of an LLM call, as traces, observations and the rollups name their columns.
TOKEN_COLUMNS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)


class CostSource(StrEnum):
    PROVIDED = "provided"
    OVERRIDE = "override"
    CATALOG = "catalog"
    UNPRICED = "unpriced"


class UserStatus(StrEnum):
    ACTIVE = "active"
    INVITED = "invited"
    SUSPENDED = "suspended"
    REMOVED = "removed"


TRACE_VERDICT_INDEX_COLUMNS = (
    "org_id",
    "start_day",
    "verdict",
    "team_id",
    "environment",
    "agent",
    "user_id",
    "start_hour",
    "start_us",
)


def _big(**kwargs) -> Field:
    return Field(sa_type=BigInteger, **kwargs)


# (*) Rollup duration sums are floats: ingest bounds a span to 7 days, and a billion
# such spans would overflow a BIGINT sum. Exact below 2^53 us (285 years) per sum; the
# SQL sums cast to float too (telemetry.rollup_tables, telemetry.queries.daily).


class Organization(SQLModel, table=True):
    __tablename__ = "organization"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(default="", max_length=200)
    created_us: int = _big(default=0)


class Team(SQLModel, table=True):
    __tablename__ = "team"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_team_org_name"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    name: str = Field(max_length=200)


class User(SQLModel, table=True):
    """An end user of the agents (not a dashboard account)."""

    __tablename__ = "end_user"
    __table_args__ = (
        UniqueConstraint("org_id", "external_id", name="uq_user_org_external"),
        Index("ix_user_org_team", "org_id", "team_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    external_id: str = Field(max_length=256)
    name: str = Field(default="", max_length=256)
    email: str = Field(default="", max_length=256)
    company: str = Field(default="", max_length=256)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    status: str = Field(default=UserStatus.ACTIVE, max_length=16)
    created_us: int = _big(default=0)
    first_trace_us: int | None = _big(default=None)
    last_trace_us: int | None = _big(default=None)


class Session(SQLModel, table=True):
    """A conversation: the traces that share a session id."""

    __tablename__ = "session"
    __table_args__ = (UniqueConstraint("org_id", "session_key", name="uq_session_org_key"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    session_key: str = Field(max_length=256)
    user_id: int | None = Field(default=None, foreign_key="end_user.id")
    created_us: int = _big(default=0)


class Trace(SQLModel, table=True):
    """One request/response cycle or agent run, derived from its spans."""

    __tablename__ = "trace"
    __table_args__ = (
        UniqueConstraint("org_id", "trace_id", name="uq_trace_org_traceid"),
        # Covers the Overview/Analytics GROUP BYs without touching the table.
        Index(
            "ix_trace_org_day_cover",
            "org_id",
            "start_day",
            "team_id",
            "environment",
            "status",
            "user_id",
            "session_id",
            "module",
            "agent",
        ),
        # start_us last: a user's first/last trace of a day is read from the index alone.
        Index("ix_trace_org_user_day_start", "org_id", "user_id", "start_day", "start_us"),
        Index("ix_trace_org_status_start", "org_id", "status", "start_us"),
        # Only rated runs (a minority): the quality figures read their verdicts from here.
        Index(
            "ix_trace_org_day_verdict",
            *TRACE_VERDICT_INDEX_COLUMNS,
            sqlite_where=text("verdict IS NOT NULL"),
            postgresql_where=text("verdict IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    trace_id: str = Field(max_length=64)
    name: str = Field(default="", max_length=512)
    session_id: int | None = Field(default=None, foreign_key="session.id")
    user_id: int | None = Field(default=None, foreign_key="end_user.id")
    team_id: int | None = Field(default=None, foreign_key="team.id")
    module: str = Field(default="", max_length=200)
    agent: str = Field(default="", max_length=200)
    environment: str = Field(default="production", max_length=100)
    status: str = Field(default=TraceStatus.RUNNING, max_length=16)
    has_root: bool = False
    start_us: int = _big()
    end_us: int | None = _big(default=None)
    duration_ms: float | None = None
    start_day: int
    start_hour: int
    start_month: int
    input_tokens: int = _big(default=0)
    output_tokens: int = _big(default=0)
    cache_read_tokens: int = _big(default=0)
    cache_write_tokens: int = _big(default=0)
    reasoning_tokens: int = _big(default=0)
    cost_usd: float = 0.0
    generations: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    error_type: str = Field(default="", max_length=200)
    error_message: str = Field(default="", sa_type=Text)
    code_lines_added: int | None = _big(default=None)
    code_lines_removed: int | None = _big(default=None)
    task_outcome: str = Field(default="", max_length=32)
    # From the trace's scores (telemetry.ingest.scores keeps them): its latest verdict,
    # 1 positive / 0 negative / NULL none, and 1 once a person reviewed it (else NULL).
    verdict: int | None = None
    reviewed: int | None = None


class Observation(SQLModel, table=True):
    """One step of a trace: a generation, tool call, agent step, span or event."""

    __tablename__ = "observation"
    __table_args__ = (
        UniqueConstraint("trace_pk", "span_id", name="uq_observation_trace_span"),
        # Observations of a kind (tool calls) per day, team and environment. Nothing after
        # the environment: within a day's group new rows then land at its end (SQLite
        # orders equal keys by rowid), instead of all over it by token count.
        Index("ix_obs_org_day_kind", "org_id", "start_day", "kind", "team_id", "environment"),
        Index("ix_obs_org_user_day", "org_id", "user_id", "start_day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    trace_pk: int = Field(foreign_key="trace.id")
    span_id: str = Field(max_length=32)
    parent_span_id: str = Field(default="", max_length=32)
    name: str = Field(default="", max_length=512)
    kind: str = Field(default=ObservationKind.SPAN, max_length=16)
    operation: str = Field(default="", max_length=64)
    status: str = Field(default=SpanStatus.UNSET, max_length=8)
    status_message: str = Field(default="", sa_type=Text)
    error_type: str = Field(default="", max_length=200)
    start_us: int = _big()
    end_us: int | None = _big(default=None)
    duration_ms: float | None = None
    start_day: int
    start_hour: int
    start_month: int
    user_id: int | None = Field(default=None, foreign_key="end_user.id")
    team_id: int | None = Field(default=None, foreign_key="team.id")
    session_id: int | None = Field(default=None, foreign_key="session.id")
    environment: str = Field(default="production", max_length=100)
    module: str = Field(default="", max_length=200)
    agent: str = Field(default="", max_length=200)
    model: str = Field(default="", max_length=200)
    provider: str = Field(default="", max_length=100)
    tool_name: str = Field(default="", max_length=200)
    tool_type: str = Field(default="", max_length=64)
    input_tokens: int = _big(default=0)
    output_tokens: int = _big(default=0)
    cache_read_tokens: int = _big(default=0)
    cache_write_tokens: int = _big(default=0)
    reasoning_tokens: int = _big(default=0)
    cost_usd: float = 0.0
    cost_source: str = Field(default="", max_length=16)
    attributes: str = Field(default="{}", sa_type=Text)
    events: str = Field(default="[]", sa_type=Text)
    input_content: str = Field(default="", sa_type=Text)
    output_content: str = Field(default="", sa_type=Text)
    # For kind "duplicate": the span id of the LLM call it repeats, which is the one counted.
    duplicate_of: str = Field(default="", max_length=32)


class AuditEvent(SQLModel, table=True):
    """Something a person did: login, a setting changed, an export (see telemetry.audit).

    ``org_id`` NULL = an event about the dashboard itself (accounts, logins,
    organizations, global settings). Events the dashboard recorded carry their
    place in the hash chain (``seq``, ``prev_hash``, ``hash``); events imported
    with telemetry or generated by the demo are data and carry none.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_org_day", "org_id", "day", "action"),
        Index("ix_audit_seq", "seq", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int | None = Field(default=None, foreign_key="organization.id")
    ts_us: int = _big()
    day: int
    actor: str = Field(default="", max_length=256)
    action: str = Field(max_length=64)
    target: str = Field(default="", max_length=512)
    details: str = Field(default="{}", sa_type=Text)
    # The organization's slug when the event was recorded ("" = the dashboard itself);
    # hashed instead of org_id, so deleting an organization keeps its trail verifiable.
    org_slug: str = Field(default="", max_length=64)
    seq: int | None = _big(default=None)
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)


class AuditChain(SQLModel, table=True):
    """The head of the audit hash chain: one row, locked by every append (telemetry.audit)."""

    __tablename__ = "audit_chain"

    id: int = Field(default=1, primary_key=True)
    length: int = _big(default=0)
    last_hash: str = Field(default="", max_length=64)


class ModelPrice(SQLModel, table=True):
    """An organization's own price for a model, in USD per million tokens."""

    __tablename__ = "model_price"
    __table_args__ = (UniqueConstraint("org_id", "model", name="uq_price_org_model"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    model: str = Field(max_length=200)
    provider: str = Field(default="", max_length=100)
    input_per_mtok: float = 0.0
    output_per_mtok: float = 0.0
    cache_read_per_mtok: float | None = None
    cache_write_per_mtok: float | None = None
    updated_us: int = _big(default=0)


class IngestError(SQLModel, table=True):
    """Quarantine: a record that could not be stored, with its raw text and why."""

    __tablename__ = "ingest_error"
    __table_args__ = (Index("ix_ingest_error_org_created", "org_id", "created_us"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int | None = Field(default=None, foreign_key="organization.id")
    created_us: int = _big()
    source: str = Field(default="", max_length=1024)
    location: str = Field(default="", max_length=256)
    reason: str = Field(sa_type=Text)
    raw: str = Field(default="", sa_type=Text)


class ApiKey(SQLModel, table=True):
    """An organization's ingest key; only its SHA-256 hash is stored."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    name: str = Field(default="", max_length=200)
    prefix: str = Field(max_length=16)
    key_hash: str = Field(unique=True, index=True, max_length=64)
    created_us: int = _big()
    revoked_us: int | None = _big(default=None)
    last_used_us: int | None = _big(default=None)


class OrgState(SQLModel, table=True):
    """A per-organization counter bumped by every write, so caches know when to refresh."""

    __tablename__ = "org_state"

    org_id: int = Field(foreign_key="organization.id", primary_key=True)
    data_version: int = _big(default=0)
    updated_us: int = _big(default=0)


class TraceDaily(SQLModel, table=True):
    """Trace figures per UTC day of the trace's start and its dimensions (a rollup).

    Derived data, kept equal to an aggregate of ``trace`` by :mod:`telemetry.rollups`:
    one row per (org, day, team, environment, user, module, agent, status) that has
    traces. ``team_id`` / ``user_id`` are NULL for traces without one, as on ``trace``.
    """

    __tablename__ = "trace_daily"
    __table_args__ = (Index("ix_trace_daily_org_day", "org_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    day: int
    team_id: int | None = None
    environment: str = Field(default="production", max_length=100)
    user_id: int | None = None
    module: str = Field(default="", max_length=200)
    agent: str = Field(default="", max_length=200)
    status: str = Field(default=TraceStatus.RUNNING, max_length=16)
    traces: int = 0
    traces_without_session: int = 0
    timed_traces: int = 0  # traces with an end (not running)
    duration_us_sum: float = 0.0  # end - start over timed traces, a float (*)
    generations: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    input_tokens: int = _big(default=0)
    output_tokens: int = _big(default=0)
    cache_read_tokens: int = _big(default=0)
    cache_write_tokens: int = _big(default=0)
    reasoning_tokens: int = _big(default=0)
    cost_usd: float = 0.0
    traces_with_code: int = 0
    code_lines_added: int = _big(default=0)
    code_lines_removed: int = _big(default=0)
    traces_with_outcome: int = 0
    outcome_clean: int = 0
    outcome_revised: int = 0
    outcome_regression: int = 0


class LlmDaily(SQLModel, table=True):
    """LLM-call figures per UTC day of the call's own start and its dimensions (a rollup).

    Derived data, kept equal to an aggregate of the ``observation`` rows of kind in
    ``LLM_CALL_KINDS`` by :mod:`telemetry.rollups`: one row per (org, day, team,
    environment, user, module, agent, kind, provider, model, cost source).
    """

    __tablename__ = "llm_daily"
    __table_args__ = (Index("ix_llm_daily_org_day", "org_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    day: int
    team_id: int | None = None
    environment: str = Field(default="production", max_length=100)
    user_id: int | None = None
    module: str = Field(default="", max_length=200)
    agent: str = Field(default="", max_length=200)
    kind: str = Field(default=ObservationKind.GENERATION, max_length=16)
    provider: str = Field(default="", max_length=100)
    model: str = Field(default="", max_length=200)
    cost_source: str = Field(default="", max_length=16)
    calls: int = 0
    errors: int = 0  # calls with span status ERROR
    timed_calls: int = 0  # calls with an end
    duration_us_sum: float = 0.0  # end - start over timed calls, a float (*)
    input_tokens: int = _big(default=0)
    output_tokens: int = _big(default=0)
    cache_read_tokens: int = _big(default=0)
    cache_write_tokens: int = _big(default=0)
    reasoning_tokens: int = _big(default=0)
    cost_usd: float = 0.0
    timed_output_tokens: int = _big(default=0)  # output tokens of the timed calls


class ToolDaily(SQLModel, table=True):
    """Tool-call figures per UTC day of the call's own start and its dimensions (a rollup).

    Derived data, kept equal to an aggregate of the ``observation`` rows of kind
    ``tool`` by :mod:`telemetry.rollups`: one row per (org, day, team, environment,
    user, agent, tool type, tool name).
    """

    __tablename__ = "tool_daily"
    __table_args__ = (Index("ix_tool_daily_org_day", "org_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    day: int
    team_id: int | None = None
    environment: str = Field(default="production", max_length=100)
    user_id: int | None = None
    agent: str = Field(default="", max_length=200)
    tool_type: str = Field(default="", max_length=64)
    tool_name: str = Field(default="", max_length=200)
    calls: int = 0
    errors: int = 0  # calls with span status ERROR
    timed_calls: int = 0  # calls with an end
    duration_us_sum: float = 0.0  # end - start over timed calls, a float (*)


class CommandDaily(SQLModel, table=True):
    """Trace figures per UTC day of the trace's start, by command (trace name) (a rollup).

    Derived data, kept equal to an aggregate of ``trace`` by :mod:`telemetry.rollups`:
    one row per (org, day, team, environment, name, status).
    """

    __tablename__ = "command_daily"
    __table_args__ = (Index("ix_command_daily_org_day", "org_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    day: int
    team_id: int | None = None
    environment: str = Field(default="production", max_length=100)
    name: str = Field(default="", max_length=512)
    status: str = Field(default=TraceStatus.RUNNING, max_length=16)
    traces: int = 0
    timed_traces: int = 0
    duration_us_sum: float = 0.0  # a float (*)


class SessionDaily(SQLModel, table=True):
    """Each session's traces per UTC day of their start (a rollup; traces with a session only).

    Derived data, kept equal to an aggregate of ``trace`` by :mod:`telemetry.rollups`:
    one row per (org, day, team, environment, agent, session) with the earliest start
    and the latest end (NULL while all of them run) of those traces, so that session
    times and distinct sessions over a period read these rows instead of every trace.
    """

    __tablename__ = "session_daily"
    __table_args__ = (
        Index(
            "ix_session_daily_org_day_cover",
            "org_id",
            "day",
            "team_id",
            "environment",
            "agent",
            "session_id",
            "first_start_us",
            "last_end_us",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    day: int
    team_id: int | None = None
    environment: str = Field(default="production", max_length=100)
    agent: str = Field(default="", max_length=200)
    session_id: int
    traces: int = 0
    first_start_us: int = _big(default=0)
    last_end_us: int | None = _big(default=None)


class TraceHourly(SQLModel, table=True):
    """Traces and their tokens per UTC hour of the trace's start (a rollup, for peak usage).

    Derived data, kept equal to an aggregate of ``trace`` by :mod:`telemetry.rollups`:
    one row per (org, day, start hour, team, environment); ``start_hour`` is
    ``trace.start_hour`` (hours since the epoch) and ``day`` its day, by which the row
    is refreshed.
    """

    __tablename__ = "trace_hourly"
    __table_args__ = (Index("ix_trace_hourly_org_day", "org_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    day: int
    start_hour: int
    team_id: int | None = None
    environment: str = Field(default="production", max_length=100)
    traces: int = 0
    input_tokens: int = _big(default=0)
    output_tokens: int = _big(default=0)


class JobState(SQLModel, table=True):
    """A background job's last claimed tick and lease (see :mod:`telemetry.jobs`)."""

    __tablename__ = "job_state"

    name: str = Field(primary_key=True, max_length=100)
    last_tick_us: int = _big(default=0)
    previous_tick_us: int = _big(default=0)  # given back when a run fails
    lease_until_us: int | None = _big(default=None)
    runner: str = Field(default="", max_length=300)
    last_started_us: int | None = _big(default=None)
    last_finished_us: int | None = _big(default=None)
    last_error: str = Field(default="", sa_type=Text)
    failures: int = 0


class LoginSession(SQLModel, table=True):
    """One dashboard login (telemetry.sessions): what the browser's cookie stands for.

    The cookie holds a random token; only its SHA-256 is stored. A login ends when
    it expires, is revoked (logout), or its account's login generation changes.
    """

    __tablename__ = "login_session"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, index=True)
    generation: str = Field(default="", max_length=64)
    address: str = Field(default="", max_length=64)
    created_us: int = _big()
    expires_us: int = _big()
    revoked_us: int | None = _big(default=None)
    token_hash: str | None = Field(default=None, max_length=64, unique=True)
    # The one-time code the browser trades for the cookie right after the login form.
    handoff_hash: str | None = Field(default=None, max_length=64, unique=True)
    handoff_expires_us: int | None = _big(default=None)


class LoginThrottle(SQLModel, table=True):
    """Recent wrong passwords (telemetry.login_throttle) of a client address, a user
    name, or a name from one address: ``name`` or ``address`` is "" for the first two."""

    __tablename__ = "login_throttle"
    __table_args__ = (Index("ix_login_throttle_address", "address"),)

    name: str = Field(default="", max_length=256, primary_key=True)
    address: str = Field(default="", max_length=64, primary_key=True)
    failures: int = 0
    last_failure_us: int = _big(default=0)
    next_allowed_us: int = _big(default=0)


class AppSetting(SQLModel, table=True):
    """An admin setting kept in the store (public URL, SMTP server...); see telemetry.settings."""

    __tablename__ = "app_setting"

    key: str = Field(primary_key=True, max_length=100)
    value: str = Field(default="", sa_type=Text)
    updated_us: int = _big(default=0)
    updated_by: str = Field(default="", max_length=256)


class RetentionPolicy(SQLModel, table=True):
    """How long an organization keeps content and records, and how far purges have reached.

    ``content_days`` / ``record_days``: NULL keeps forever. The ``*_purged_before_day``
    columns are the horizons (UTC day numbers) the retention runs have actually
    applied: detail before ``records_purged_before_day`` is gone while its rollups are
    kept, so ``rollups check`` compares only the days from there on (telemetry.retention).
    """

    __tablename__ = "retention_policy"

    org_id: int = Field(foreign_key="organization.id", primary_key=True)
    content_days: int | None = None
    record_days: int | None = None
    content_purged_before_day: int | None = None
    records_purged_before_day: int | None = None
    updated_us: int = _big(default=0)
    updated_by: str = Field(default="", max_length=256)


class ScoreSource(StrEnum):
    HUMAN = "human"  # a reviewer in the dashboard
    FEEDBACK = "feedback"  # an end user's thumbs in the agent's app
    LLM = "llm"  # an LLM judge
    CODE = "code"  # a check in code


class ScoreKind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"


class Score(SQLModel, table=True):
    """A judgement of a trace, span or session: name, value and/or label (telemetry.scores).

    Keyed to its trace by the trace id as sent, so a score that arrives before its
    trace is kept and joins the trace when it does. ``score_key`` makes re-sending
    idempotent: a score whose key is already stored changes nothing.
    """

    __tablename__ = "score"
    __table_args__ = (
        UniqueConstraint("org_id", "score_key", name="uq_score_org_key"),
        Index("ix_score_org_trace", "org_id", "trace_id"),
        # Scores by their trace's day, covering what the score summary reads.
        Index("ix_score_org_day", "org_id", "trace_day", "name", "trace_pk", "value", "label"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    score_key: str = Field(max_length=128)
    trace_id: str = Field(default="", max_length=64)
    span_id: str = Field(default="", max_length=32)
    session_key: str = Field(default="", max_length=256)
    name: str = Field(max_length=100)
    value: float | None = None
    label: str = Field(default="", max_length=100)
    comment: str = Field(default="", sa_type=Text)
    source: str = Field(default=ScoreSource.FEEDBACK, max_length=16)
    author: str = Field(default="", max_length=256)
    time_us: int = _big()
    created_us: int = _big(default=0)
    # The trace's row and start day once it is stored (NULL before), kept in step with it.
    trace_pk: int | None = None
    trace_day: int | None = None


class ScoreConfig(SQLModel, table=True):
    """A score name an organization accepts: its kind, allowed labels or range, verdict or not.

    Once an organization configures any name, scores with other names are refused.
    """

    __tablename__ = "score_config"
    __table_args__ = (UniqueConstraint("org_id", "name", name="uq_score_config_org_name"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    name: str = Field(max_length=100)
    kind: str = Field(default=ScoreKind.NUMERIC, max_length=16)
    labels: str = Field(default="", max_length=1000)  # allowed labels, comma-separated
    min_value: float | None = None
    max_value: float | None = None
    verdict: bool = False  # counts as a verdict besides user_feedback and review
    description: str = Field(default="", max_length=500)


class TraceQuality(SQLModel, table=True):
    """Per trace id: its latest verdict and whether a person reviewed it (kept by telemetry.scores).

    Maintained as scores are stored (the latest verdict is the one with the greatest
    (time, id)), so pages join one row per trace instead of ranking all scores.
    """

    __tablename__ = "trace_quality"

    org_id: int = Field(foreign_key="organization.id", primary_key=True)
    trace_id: str = Field(max_length=64, primary_key=True)
    verdict_score_id: int | None = None
    verdict_time_us: int | None = _big(default=None)
    positive: int | None = None  # 1 / 0 for the latest verdict; NULL: no verdict
    reviewed: int = 0  # 1 once any score of source human is stored
    scores: int = 0
