"""Traces around the edges of sub-day windows: midnight, whole minutes, the hour ending 14:37.

The store (organization ``default``) holds, on 12 to 15 March 2026 (UTC):

- hand-placed traces at the edges of the windows the tests ask for: a run that
  starts exactly at 13:37 (in the last hour ending 14:37) and one exactly at 14:37
  (out); one a microsecond before 13:37 whose LLM call starts inside the hour; one
  inside the hour whose call starts after it; runs that cross midnight with calls
  on the next day; a running trace; one without user, team or session;
- 160 generated traces (fixed seed) over the four days, each with LLM calls and
  tool calls starting minutes to hours after their trace, in another hour or day.

Tests compute every expected figure in plain Python over ``ds.traces`` and
``ds.observations`` (tests/metrics_oracle.py and the test module itself).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import Engine

from telemetry.timeutil import to_us
from tests.factories import Dataset, generation, root, tool

NOW = datetime(2026, 3, 15, 14, 37)  # the end of "the last hour" and "the last 24 hours"
NOW_US = to_us(NOW)
US_PER_HOUR = 3_600_000_000
USERS = {"ana": "alpha", "bob": "alpha", "cy": "beta", "dee": "beta", "eve": None}
MODELS = (("openai", "gpt-4o"), ("anthropic", "claude-sonnet-4"), ("acme", "acme-llm"))
STATUSES = ("ok", "ok", "ok", "error", "timeout", "running")
AGENTS = ("coder", "support", "")
MODULES = ("ide", "chat", "")


def build_window_store(engine: Engine) -> Dataset:
    ds = Dataset(engine)
    ds.team("alpha")
    ds.team("beta")
    ds.team("gamma")  # a team with no telemetry
    for name, team in USERS.items():
        ds.user(name, team=team, created=datetime(2026, 3, 1))
    ds.user("late", team="alpha", created=datetime(2026, 3, 15, 14, 0))  # no trace at all
    _edges(ds)
    _generated(ds, random.Random(14))
    return ds


def _run(status: str = "ok", seconds: float | None = 60.0) -> list:
    if status == "running":
        return [root("/run", seconds=None)]
    error = "timeout" if status == "timeout" else ""
    span_status = "error" if status in ("error", "timeout") else "ok"
    return [root("/run", seconds=seconds, status=span_status, error_type=error)]


def _edges(ds: Dataset) -> None:
    hour_start = NOW - timedelta(hours=1)
    ds.trace(
        "edge-start",
        start=hour_start,
        user="ana",
        session="s-edge",
        agent="coder",
        module="ide",
        spans=[*_run(), generation(at=0, input_tokens=100, output_tokens=10, cost_usd=0.01)],
    )
    ds.trace(
        "edge-end",  # starts exactly when the hour ends: not in it
        start=NOW,
        user="bob",
        agent="coder",
        spans=[*_run(), generation(at=1, input_tokens=200, output_tokens=20, cost_usd=0.02)],
    )
    ds.trace(
        "edge-before",  # a microsecond before the hour; its call starts inside it
        start=hour_start - timedelta(microseconds=1),
        user="cy",
        session="s-edge",
        agent="support",
        spans=[
            *_run(seconds=300),
            generation("claude-sonnet-4", "anthropic", at=120, input_tokens=300, cost_usd=0.03),
            tool("search", at=150, status="error"),
        ],
    )
    ds.trace(
        "edge-call-after",  # inside the hour; its call starts after the hour ends
        start=NOW - timedelta(minutes=5),
        user="dee",
        spans=[
            *_run("error", seconds=900),
            generation(at=600, input_tokens=400, output_tokens=40, cost_usd=0.04),
            tool("fetch", at=10),
        ],
    )
    ds.trace(
        "midnight",  # 23:30 on the 14th; a call at 00:15 and a tool at 00:40 on the 15th
        start=datetime(2026, 3, 14, 23, 30),
        user="ana",
        session="s-night",
        agent="coder",
        module="chat",
        spans=[
            *_run(seconds=4_000),
            generation(at=45 * 60, input_tokens=500, output_tokens=50, cost_usd=0.05),
            tool("search", at=70 * 60),
        ],
    )
    ds.trace(
        "last-second",  # 23:59:59.999999 on the 14th, its call just after midnight
        start=datetime(2026, 3, 14, 23, 59, 59, 999_999),
        user="eve",
        session="s-night",
        spans=[*_run("timeout"), generation(at=0.5, input_tokens=600, cost_usd=0.06)],
    )
    ds.trace("running", start=NOW - timedelta(minutes=20), user="bob", spans=_run("running"))
    ds.trace(
        "nobody",
        start=NOW - timedelta(minutes=30),
        team=None,
        environment="staging",
        spans=[*_run(), generation("acme-llm", "acme", at=5, input_tokens=7, cost_source="")],
    )


def _generated(ds: Dataset, rng: random.Random) -> None:
    first = datetime(2026, 3, 12)
    for number in range(160):
        start = first + timedelta(minutes=rng.randrange(4 * 24 * 60 - 1), seconds=rng.random())
        if start >= NOW + timedelta(minutes=30):
            continue
        user = rng.choice([*USERS, None])
        spans = _run(rng.choice(STATUSES), seconds=rng.choice([30, 600, 7_200]))
        for _ in range(rng.randrange(3)):
            provider, model = rng.choice(MODELS)
            spans.append(
                generation(
                    model,
                    provider,
                    at=rng.choice([1, 400, 3_000, 5_400]),
                    seconds=rng.choice([0.5, 3.0]),
                    input_tokens=rng.randrange(1, 2_000),
                    output_tokens=rng.randrange(500),
                    cache_read_tokens=rng.randrange(100),
                    cost_usd=round(rng.random() / 50, 6),
                    cost_source="unpriced" if model == "acme-llm" else "catalog",
                )
            )
        if rng.random() < 0.5:
            spans.append(tool(rng.choice(["search", "fetch"]), at=rng.choice([2, 2_000])))
        ds.trace(
            f"g{number}",
            start=start,
            user=user,
            team=USERS[user] if user else rng.choice(["alpha", None]),
            session=rng.choice([None, f"s{number % 9}"]),
            environment=rng.choice(["production", "production", "staging"]),
            module=rng.choice(MODULES),
            agent=rng.choice(AGENTS),
            spans=spans,
        )
