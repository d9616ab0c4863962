"""A known dataset for the Sessions and Traces lists: two teams, March 2026 as the period.

Team A (users ana, ben; agent "helper" unless said):
- aaa0  2026-02-27 12:00, session sess-long, $1.00: BEFORE the period (never listed).
- aaa1  2026-03-10 23:50, session sess-long, "support-turn", 60 s, gpt-4o $0.10 with a
        long first user message, tool search ok.
- aaa2  2026-03-11 00:20 (next day), session sess-long, "support-turn", 120 s,
        claude-sonnet-4-5 $0.20, tool lookup FAILED (HTTPError: 502 from upstream) but the
        trace is ok; its root span carries the input "root says hi".
- aaa3  2026-03-12 10:00, ben, session sess-err, "triage" ERROR (ValueError: bad input),
        30 s, agent "triager", gpt-4o-mini $0.05.
- aaa4  2026-03-13 09:00, ben, no session, "draft", still running, gpt-4o $0.01.
Team B (user bo, agent "bot", environment "staging"):
- bbb1  2026-03-15 12:00, session sess-b, "search-run", 60 s, gpt-4o $0.50, tool search ok.
- bbb2  2026-03-15 12:10, session sess-b, "search-run" TIMEOUT, 10 s, no LLM call.
- bbb3  2026-03-16 08:00, session sess-b2, "summarize", 200 s, mistral-large $0.30.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine

from telemetry.filters import Filters
from telemetry.models import SpanStatus
from tests.factories import Dataset, generation, root, tool

MARCH = Filters(start=date(2026, 3, 1), end=date(2026, 3, 31))
MANAGER_A = Filters(start=date(2026, 3, 1), end=date(2026, 3, 31), teams=("A",))
LONG_MESSAGE = "My order #1234 never arrived. " * 10  # 300 characters
ROOT_INPUT = "root says hi"
# Rows written together must have the same columns: spans beside one with content get "".
NO_CONTENT = {"input_content": ""}


def build(engine: Engine) -> Dataset:
    ds = Dataset(engine)
    ds.user("ana", team="A")
    ds.user("ben", team="A")
    ds.user("bo", team="B")
    a = {"agent": "helper", "module": "desk"}
    ds.trace(
        "aaa0",
        user="ana",
        session="sess-long",
        start=datetime(2026, 2, 27, 12),
        **a,
        spans=[root("support-turn"), generation(cost_usd=1.0)],
    )
    ds.trace(
        "aaa1",
        user="ana",
        session="sess-long",
        start=datetime(2026, 3, 10, 23, 50),
        **a,
        spans=[
            root("support-turn", seconds=60, context=NO_CONTENT),
            generation("gpt-4o", cost_usd=0.10, context={"input_content": LONG_MESSAGE}),
            tool("search", at=5, context=NO_CONTENT),
        ],
    )
    ds.trace(
        "aaa2",
        user="ana",
        session="sess-long",
        start=datetime(2026, 3, 11, 0, 20),
        **a,
        spans=[
            root("support-turn", seconds=120, context={"input_content": ROOT_INPUT}),
            generation(
                "claude-sonnet-4-5", provider="anthropic", cost_usd=0.20, context=NO_CONTENT
            ),
            tool(
                "lookup",
                at=10,
                status=SpanStatus.ERROR,
                error_type="HTTPError",
                status_message="502 from upstream",
                context=NO_CONTENT,
            ),
        ],
    )
    ds.trace(
        "aaa3",
        user="ben",
        session="sess-err",
        start=datetime(2026, 3, 12, 10),
        agent="triager",
        module="desk",
        spans=[
            root(
                "triage",
                seconds=30,
                status=SpanStatus.ERROR,
                error_type="ValueError",
                status_message="bad input",
            ),
            generation("gpt-4o-mini", cost_usd=0.05),
        ],
    )
    ds.trace(
        "aaa4",
        user="ben",
        start=datetime(2026, 3, 13, 9),
        **a,
        spans=[root("draft", seconds=None), generation("gpt-4o", cost_usd=0.01)],
    )
    b = {"agent": "bot", "module": "finder", "environment": "staging"}
    ds.trace(
        "bbb1",
        user="bo",
        session="sess-b",
        start=datetime(2026, 3, 15, 12),
        **b,
        spans=[root("search-run", seconds=60), generation("gpt-4o", cost_usd=0.50), tool()],
    )
    ds.trace(
        "bbb2",
        user="bo",
        session="sess-b",
        start=datetime(2026, 3, 15, 12, 10),
        **b,
        spans=[root("search-run", seconds=10, status=SpanStatus.ERROR, error_type="timeout")],
    )
    ds.trace(
        "bbb3",
        user="bo",
        session="sess-b2",
        start=datetime(2026, 3, 16, 8),
        **b,
        spans=[
            root("summarize", seconds=200),
            generation("mistral-large", provider="mistral", cost_usd=0.30),
        ],
    )
    return ds
