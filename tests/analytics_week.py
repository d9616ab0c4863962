"""A small known dataset for the Analytics queries, around one week (Mon 2026-03-02 .. Sun 03-08).

Previous period of equal length: 2026-02-23 .. 03-01. Teams alpha (ana, bob) and
beta (eve). Every expected figure of the tests is worked out by hand from this
list (seconds = root-span duration; LLM calls last 2 s unless said; tokens are
input/output/cache read):

- t1  ana s1 coder /review, Mon 09:00, ok 100 s; gpt-4o 1000/200/400 $0.02;
      tools search ok 0.5 s and run_tests (code) ERROR 4 s
- t2  ana s1 coder /review, Mon 23:50, ok 1200 s; gpt-4o 500/100 $0.01 at Tue 00:05
- t3  bob s2 coder /fix, Tue 14:00, error 30 s; claude 2000/50 $0.03, ERROR, 3 s
- t4  bob (no session) coder /fix, Wed 10:00, timeout 300 s; gpt-4o 300/0, 4 s
- t5  eve s3 support support-turn, Wed 16:00, ok 45 s; claude 800/120/600 $0.004,
      1.5 s; tool kb_lookup (mcp) ok 0.25 s
- t6  eve s3 support support-turn, Thu 16:10, running; claude 100/10, not ended
- t7  ana s4 coder /review, Sat 11:00, ok 80 s; gpt-4o 400/80 $0.008
- t8  no user, team, session, agent or name, Sun 20:00, ok 10 s
- p1  ana s0 coder /review, previous Wed 02-25 10:00, ok 50 s; gpt-4o 100/20
- p2  eve (no session) support support-turn, previous Fri 02-27 12:00, error 20 s

Code and outcomes (root attributes): t1 +30/-10 clean, t2 +5/-0 revised, t3 +12/-40
regression. Session s1 spans midnight: Mon 09:00 -> Tue 00:10 = 54,600 s.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine

from telemetry.filters import Filters
from telemetry.models import SpanStatus
from tests.factories import Dataset, generation, root, tool

WEEK_START = date(2026, 3, 2)
WEEK_END = date(2026, 3, 8)
CLAUDE = {"model": "claude-sonnet-4-5", "provider": "anthropic"}
ERROR = SpanStatus.ERROR


def week(**changes) -> Filters:
    """The week's filters (``Filters`` fields may be overridden)."""
    return Filters(**{"start": WEEK_START, "end": WEEK_END, **changes})


def build_analytics_week(engine: Engine, org: str = "default") -> Dataset:
    ds = Dataset(engine, org)
    ds.user("ana", team="alpha")
    ds.user("bob", team="alpha")
    ds.user("eve", team="beta")
    coder = {"agent": "coder", "module": "ide"}
    support = {"agent": "support", "module": "chat"}
    ds.trace(
        "t1",
        user="ana",
        session="s1",
        start=datetime(2026, 3, 2, 9),
        **coder,
        spans=[
            root("/review", seconds=100, attributes=_code(30, 10, "clean")),
            generation(
                at=1, input_tokens=1000, output_tokens=200, cache_read_tokens=400, cost_usd=0.02
            ),
            tool("search", at=5, seconds=0.5),
            tool("run_tests", at=10, seconds=4, status=ERROR, tool_type="code"),
        ],
    )
    ds.trace(
        "t2",
        user="ana",
        session="s1",
        start=datetime(2026, 3, 2, 23, 50),
        **coder,
        spans=[
            root("/review", seconds=1200, attributes=_code(5, 0, "revised")),
            generation(at=900, input_tokens=500, output_tokens=100, cost_usd=0.01),
        ],
    )
    ds.trace(
        "t3",
        user="bob",
        session="s2",
        start=datetime(2026, 3, 3, 14),
        **coder,
        spans=[
            root("/fix", seconds=30, status=ERROR, attributes=_code(12, 40, "regression")),
            generation(
                **CLAUDE,
                seconds=3,
                input_tokens=2000,
                output_tokens=50,
                cost_usd=0.03,
                status=ERROR,
            ),
        ],
    )
    ds.trace(
        "t4",
        user="bob",
        start=datetime(2026, 3, 4, 10),
        **coder,
        spans=[
            root("/fix", seconds=300, status=ERROR, error_type="timeout"),
            generation(seconds=4, input_tokens=300),
        ],
    )
    ds.trace(
        "t5",
        user="eve",
        session="s3",
        start=datetime(2026, 3, 4, 16),
        **support,
        spans=[
            root("support-turn", seconds=45),
            generation(
                **CLAUDE,
                seconds=1.5,
                input_tokens=800,
                output_tokens=120,
                cache_read_tokens=600,
                cost_usd=0.004,
            ),
            tool("kb_lookup", at=3, seconds=0.25, tool_type="mcp"),
        ],
    )
    ds.trace(
        "t6",
        user="eve",
        session="s3",
        start=datetime(2026, 3, 5, 16, 10),
        **support,
        spans=[
            root("support-turn", seconds=None),
            generation(**CLAUDE, seconds=None, input_tokens=100, output_tokens=10),
        ],
    )
    ds.trace(
        "t7",
        user="ana",
        session="s4",
        start=datetime(2026, 3, 7, 11),
        **coder,
        spans=[
            root("/review", seconds=80),
            generation(input_tokens=400, output_tokens=80, cost_usd=0.008),
        ],
    )
    ds.trace("t8", start=datetime(2026, 3, 8, 20), spans=[root("", seconds=10)])
    ds.trace(
        "p1",
        user="ana",
        session="s0",
        start=datetime(2026, 2, 25, 10),
        **coder,
        spans=[root("/review", seconds=50), generation(input_tokens=100, output_tokens=20)],
    )
    ds.trace(
        "p2",
        user="eve",
        start=datetime(2026, 2, 27, 12),
        **support,
        spans=[root("support-turn", seconds=20, status=ERROR)],
    )
    return ds


def _code(added: int, removed: int, outcome: str) -> dict:
    return {"code.lines_added": added, "code.lines_removed": removed, "task.outcome": outcome}
