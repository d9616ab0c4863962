"""What the demo organization is made of: teams, models, tools, agents and their habits.

Everything here is fixed data; the generator draws from it with a seeded RNG.
Model names are real catalog entries of ``genai-prices`` (checked by the tests)
except ``acme-coder-7b``, a self-hosted model with no public price.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEMO_ORG = "demo"
DEMO_ORG_NAME = "Demo organization (generated data)"
EMAIL_DOMAIN = "acme.example"

COMPANIES = (
    ("Acme Corp", 0.78),
    ("Acme GmbH", 0.12),
    ("Northwind Consulting", 0.06),
    ("Globex Partners", 0.04),
)

_FIRST = """Ada Alan Amara Ana Ben Bruno Carla Chen Clara Dario Dmitri Elena Emil Fatima
Felix Grace Hana Hugo Ines Ivan Jonas Julia Kenji Lara Leon Lina Luca Maya Mehdi Mila Nadia
Noah Olga Omar Paula Priya Rafael Rosa Sami Sofia Tariq Uma Victor Wei Yara Zoe"""
_LAST = """Almeida Bauer Becker Costa Dubois Eriksen Fischer Garcia Haddad Ito Jansen Kowalski
Larsen Lopez Moreau Murphy Nakamura Novak Okafor Petrov Quinn Rossi Santos Schmidt Silva
Tanaka Varga Weber Yilmaz Zhang"""
FIRST_NAMES = tuple(_FIRST.split())
LAST_NAMES = tuple(_LAST.split())


@dataclass(frozen=True)
class Model:
    provider: str
    name: str
    ttft_ms: float  # median time to first token
    tokens_per_s: float
    cache: str = "none"  # how the provider caches prompts: openai, anthropic, google, none
    embedding: bool = False
    reasoning: bool = False


GPT_4O = Model("openai", "gpt-4o", 450, 90, cache="openai")
GPT_4O_MINI = Model("openai", "gpt-4o-mini", 300, 140, cache="openai")
GPT_41_MINI = Model("openai", "gpt-4.1-mini", 350, 120, cache="openai")
EMBED_SMALL = Model("openai", "text-embedding-3-small", 60, 0, embedding=True)
CLAUDE_SONNET = Model("anthropic", "claude-sonnet-4-5", 900, 70, cache="anthropic")
CLAUDE_HAIKU = Model("anthropic", "claude-3-5-haiku-latest", 500, 110, cache="anthropic")
GEMINI_PRO = Model("google", "gemini-2.5-pro", 1200, 80, cache="google", reasoning=True)
GEMINI_FLASH = Model("google", "gemini-2.5-flash", 450, 180, cache="google", reasoning=True)
MISTRAL_LARGE = Model("mistral", "mistral-large-latest", 500, 75)
ACME_CODER = Model("internal", "acme-coder-7b", 120, 160)

CATALOG_MODELS = (
    GPT_4O,
    GPT_4O_MINI,
    GPT_41_MINI,
    EMBED_SMALL,
    CLAUDE_SONNET,
    CLAUDE_HAIKU,
    GEMINI_PRO,
    GEMINI_FLASH,
    MISTRAL_LARGE,
)
CUSTOM_MODELS = (ACME_CODER,)


@dataclass(frozen=True)
class Tool:
    name: str
    tool_type: str  # workflow, code, mcp, knowledge
    median_ms: float
    failure_rate: float  # failures the agent recovers from (tool errors in OK traces)
    error_type: str
    error_message: str
    argument: str  # short fake call arguments, kept small on purpose


READ_FILE = Tool(
    "read_file", "mcp", 40, 0.01, "FileNotFoundError", "no such file in workspace", "src/app.py"
)
SEARCH_CODE = Tool(
    "github.search_code", "mcp", 420, 0.03, "HTTPError", "502 Bad Gateway", "def charge("
)
APPLY_PATCH = Tool(
    "apply_patch", "code", 90, 0.04, "PatchConflict", "hunk 2 does not apply", "3 files"
)
RUN_TESTS = Tool(
    "run_tests", "code", 9000, 0.06, "TestFailure", "2 tests failed", "pytest -q tests/"
)
POST_COMMENT = Tool(
    "post_review_comment", "workflow", 300, 0.02, "HTTPError", "403 Forbidden", "PR #412"
)
KB_SEARCH = Tool(
    "kb_search", "knowledge", 180, 0.02, "IndexUnavailable", "search index warming up", "refunds"
)
CRM_LOOKUP = Tool(
    "crm.lookup_customer", "mcp", 250, 0.04, "HTTPError", "504 Gateway Timeout", "cust_8812"
)
ORDER_STATUS = Tool(
    "order_status", "workflow", 350, 0.03, "NotFound", "order id unknown", "A-100231"
)
CREATE_TICKET = Tool(
    "create_ticket", "workflow", 600, 0.02, "ValidationError", "priority missing", "P3"
)
ISSUE_REFUND = Tool(
    "issue_refund", "workflow", 900, 0.05, "PolicyViolation", "amount above limit", "EUR 49"
)
VECTOR_SEARCH = Tool(
    "vector_search", "knowledge", 120, 0.01, "IndexUnavailable", "shard 3 offline", "top_k=8"
)
WIKI_SEARCH = Tool(
    "confluence_search", "knowledge", 650, 0.04, "HTTPError", "429 Too Many Requests", "onboard"
)
RUN_SQL = Tool("run_sql", "code", 1800, 0.07, "SQLError", "column does not exist", "SELECT ...")
PYTHON_SANDBOX = Tool(
    "python_sandbox", "code", 2500, 0.05, "NameError", "name 'df' is not defined", "plot.py"
)
DESCRIBE_TABLE = Tool(
    "warehouse.describe_table", "mcp", 200, 0.02, "HTTPError", "503 Unavailable", "sales.orders"
)
RENDER_CHART = Tool(
    "render_chart", "workflow", 700, 0.02, "RenderError", "empty data series", "bar"
)


@dataclass(frozen=True)
class Command:
    """A root span name (the command or intent) with its own model and tool habits."""

    name: str
    weight: float
    models: tuple[tuple[Model, float], ...] = ()  # empty: the agent's models
    uses_tools: bool = True


@dataclass(frozen=True)
class Agent:
    name: str
    module: str  # service.name
    shape: str  # which token shape: code or conv
    commands: tuple[Command, ...]
    models: tuple[tuple[Model, float], ...]
    tools: tuple[tuple[Tool, float], ...]
    system_tokens: int  # fixed prompt prefix, the part that caches
    tool_rounds: float  # mean tool/generation rounds after the first generation
    mean_turns: float  # mean traces per session
    think_s: float  # median pause between two turns of a session
    error_rate: float
    timeout_rate: float
    deadline_s: int
    writes_code: bool = False
    embedding: Model | None = None
    prompts: tuple[str, ...] = field(default=("help me with this",))
    answers: tuple[str, ...] = field(default=("done",))

    @property
    def weighted_commands(self) -> tuple[tuple[Command, float], ...]:
        return self._weighted_commands

    def __post_init__(self) -> None:
        pairs = tuple((command, command.weight) for command in self.commands)
        object.__setattr__(self, "_weighted_commands", pairs)


CODER = Agent(
    name="coder",
    module="code-assistant",
    shape="code",
    commands=(
        Command("/fix", 0.30),
        Command("/implement", 0.22),
        Command("/test", 0.14),
        Command("/refactor", 0.12),
        Command("/complete", 0.22, models=((ACME_CODER, 1.0),), uses_tools=False),
    ),
    models=((CLAUDE_SONNET, 0.85), (GPT_41_MINI, 0.15)),
    tools=((READ_FILE, 0.35), (SEARCH_CODE, 0.15), (APPLY_PATCH, 0.3), (RUN_TESTS, 0.2)),
    system_tokens=2600,
    tool_rounds=2.2,
    mean_turns=3.5,
    think_s=150,
    error_rate=0.03,
    timeout_rate=0.015,
    deadline_s=180,
    writes_code=True,
    prompts=("fix the failing invoice test", "add retry to the http client", "write tests"),
    answers=("patched 2 files, tests pass", "added the change and a test", "done, see diff"),
)
REVIEWER = Agent(
    name="reviewer",
    module="code-assistant",
    shape="code",
    commands=(Command("/review", 1.0),),
    models=((GPT_41_MINI, 1.0),),
    tools=((READ_FILE, 0.5), (SEARCH_CODE, 0.2), (POST_COMMENT, 0.3)),
    system_tokens=1800,
    tool_rounds=1.5,
    mean_turns=1.6,
    think_s=240,
    error_rate=0.02,
    timeout_rate=0.01,
    deadline_s=120,
    prompts=("review PR #412", "review the billing change"),
    answers=("3 comments posted", "looks good, one nit"),
)
SUPPORT = Agent(
    name="support-agent",
    module="support-desk",
    shape="conv",
    commands=(Command("support-turn", 1.0),),
    models=((GPT_4O, 0.8), (MISTRAL_LARGE, 0.2)),
    tools=(
        (KB_SEARCH, 0.4),
        (CRM_LOOKUP, 0.25),
        (ORDER_STATUS, 0.15),
        (CREATE_TICKET, 0.12),
        (ISSUE_REFUND, 0.08),
    ),
    system_tokens=1400,
    tool_rounds=1.2,
    mean_turns=3.0,
    think_s=70,
    error_rate=0.025,
    timeout_rate=0.01,
    deadline_s=60,
    prompts=("where is my order A-100231?", "customer asks for a refund", "reset 2FA"),
    answers=("order ships tomorrow", "refund issued", "sent the reset link"),
)
TRIAGE = Agent(
    name="triage-agent",
    module="support-desk",
    shape="conv",
    commands=(Command("triage-ticket", 1.0),),
    models=((GPT_4O_MINI, 1.0),),
    tools=((CREATE_TICKET, 0.6), (KB_SEARCH, 0.4)),
    system_tokens=900,
    tool_rounds=0.6,
    mean_turns=1.2,
    think_s=40,
    error_rate=0.015,
    timeout_rate=0.005,
    deadline_s=30,
    prompts=("classify ticket #5531",),
    answers=("billing / P3",),
)
SEARCHER = Agent(
    name="search-agent",
    module="internal-search",
    shape="conv",
    commands=(Command("search", 0.8), Command("summarize-doc", 0.2)),
    models=((CLAUDE_HAIKU, 0.85), (GEMINI_FLASH, 0.15)),
    tools=((VECTOR_SEARCH, 0.6), (WIKI_SEARCH, 0.4)),
    system_tokens=700,
    tool_rounds=0.4,
    mean_turns=1.7,
    think_s=45,
    error_rate=0.02,
    timeout_rate=0.01,
    deadline_s=30,
    embedding=EMBED_SMALL,
    prompts=("vacation policy", "how do I get VPN access?", "Q3 roadmap"),
    answers=("see HR-12, section 3", "request it in the IT portal", "roadmap doc linked"),
)
ANALYST = Agent(
    name="analyst",
    module="data-analyst",
    shape="code",
    commands=(Command("analyze", 0.6), Command("/sql", 0.25), Command("/chart", 0.15)),
    models=((GEMINI_PRO, 0.6), (GPT_4O, 0.25), (MISTRAL_LARGE, 0.15)),
    tools=((RUN_SQL, 0.4), (PYTHON_SANDBOX, 0.2), (DESCRIBE_TABLE, 0.25), (RENDER_CHART, 0.15)),
    system_tokens=2200,
    tool_rounds=1.8,
    mean_turns=2.8,
    think_s=120,
    error_rate=0.035,
    timeout_rate=0.02,
    deadline_s=120,
    prompts=("revenue by region last quarter", "churn by plan", "top 10 SKUs"),
    answers=("EMEA +12 %, chart attached", "churn 2.1 % on Basic", "table attached"),
)
AGENTS = (CODER, REVIEWER, SUPPORT, TRIAGE, SEARCHER, ANALYST)


@dataclass(frozen=True)
class TeamProfile:
    name: str
    size: int
    agents: tuple[tuple[Agent, float], ...]
    environments: tuple[tuple[str, float], ...]  # deployment.environment of their sessions


TEAMS = (
    TeamProfile(
        "Engineering",
        18,
        ((CODER, 0.6), (REVIEWER, 0.15), (SEARCHER, 0.2), (ANALYST, 0.05)),
        (("production", 0.78), ("staging", 0.18), ("development", 0.04)),
    ),
    TeamProfile(
        "Customer Support",
        13,
        ((SUPPORT, 0.65), (TRIAGE, 0.2), (SEARCHER, 0.15)),
        (("production", 0.96), ("staging", 0.04)),
    ),
    TeamProfile(
        "Sales",
        9,
        ((SEARCHER, 0.5), (SUPPORT, 0.15), (ANALYST, 0.35)),
        (("production", 0.97), ("staging", 0.03)),
    ),
    TeamProfile(
        "Finance & Operations",
        8,
        ((ANALYST, 0.7), (SEARCHER, 0.3)),
        (("production", 0.95), ("staging", 0.05)),
    ),
)

# Dashboard accounts (not end users) whose actions fill the audit trail.
DASHBOARD_ACCOUNTS = (
    ("admin", "admin", ""),
    ("m.keller", "manager", "Engineering"),
    ("s.oliveira", "manager", "Customer Support"),
    ("j.brandt", "manager", "Sales"),
)
