"""A small known dataset with every edge case docs/metrics.md cares about, around one week.

The period is ``WEEK`` (Mon 2026-03-02 .. Sun 2026-03-08); the previous period of
equal length is 2026-02-23 .. 2026-03-01. Teams ``alpha`` and ``beta``.

Users: ana (alpha, first trace in the week), bob (alpha, traced since February),
cyd (alpha, no trace ever), dan (alpha, removed, has a trace), eve (beta, another
team, traced since January), fay (alpha, created and traced after the week),
gus (alpha, traced only in the previous week), hal (no team), ivy (beta, created
mid-week, never traced), kim (alpha, directory entry created in April but traced
in the week).

Traces: one spanning midnight (its second generation falls on the next day), a
session with traces on two days, a running trace, a timeout, an error, a trace
without a session with cached tokens and an embedding, a trace in ``staging``,
a trace bob ran for beta, a trace starting on the week's last minute whose
generation falls after the week, and one starting in the previous week's last
minutes whose generation falls on the week's first day. The root agent span of
the midnight trace repeats its children's tokens, which must not be counted.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine

from telemetry.filters import Filters
from tests.factories import Dataset, embedding, generation, root, tool

WEEK_START = date(2026, 3, 2)
WEEK_END = date(2026, 3, 8)


def build_edge_case_week(engine: Engine, org: str = "default", *, reverse: bool = False) -> Dataset:
    """Write the dataset; ``reverse=True`` writes the traces in the opposite order."""
    ds = Dataset(engine, org)
    for team in ("alpha", "beta"):
        ds.team(team)
    jan = datetime(2026, 1, 1)
    ds.user("ana", team="alpha", created=jan, email="ana@example.com")
    ds.user("bob", team="alpha", created=jan)
    ds.user("cyd", team="alpha", created=datetime(2026, 1, 5))
    ds.user("dan", team="alpha", created=jan, status="removed")
    ds.user("eve", team="beta", created=jan)
    ds.user("fay", team="alpha", created=datetime(2026, 3, 20))
    ds.user("gus", team="alpha", created=jan)
    ds.user("hal", team=None, created=jan)
    ds.user("ivy", team="beta", created=datetime(2026, 3, 5, 9))
    ds.user("kim", team="alpha", created=datetime(2026, 4, 1))
    traces = _traces()
    for trace_id, kwargs in reversed(traces) if reverse else traces:
        ds.trace(trace_id, **kwargs)
    return ds


def _ide(user: str, start: datetime, *spans, **kwargs) -> dict:
    """A coding-agent trace from the ``ide`` module."""
    return _trace(user, start, *spans, module="ide", agent="coder", **kwargs)


def _chat(user: str, start: datetime, *spans, **kwargs) -> dict:
    """A support-agent trace from the ``chat`` module."""
    return _trace(user, start, *spans, module="chat", agent="support", **kwargs)


def _trace(user: str, start: datetime, *spans, **kwargs) -> dict:
    return {"user": user, "start": start, "spans": list(spans) or None, **kwargs}


CLAUDE = {"model": "claude-sonnet-4-5", "provider": "anthropic"}


def _traces() -> list[tuple[str, dict]]:
    midnight = datetime(2026, 3, 3, 23, 50)
    return [
        # Before the previous week: first traces of eve and bob.
        ("t-eve-jan", _chat("eve", datetime(2026, 1, 15, 9), root(), generation(**CLAUDE))),
        ("t-bob-feb", _ide("bob", datetime(2026, 2, 20, 9))),
        # Previous week: gus's only trace; bob's trace whose LLM call falls in the week.
        ("t-gus", _ide("gus", datetime(2026, 2, 25, 10), root(), _gpt(100, 10, 0.001))),
        (
            "t-early",
            _ide("bob", datetime(2026, 3, 1, 23, 58), root(seconds=600), _gpt(900, 90, 0.009, 240)),
        ),
        # The week.
        (
            "t-midnight",
            _ide(
                "ana",
                midnight,
                root(seconds=1200, input_tokens=3000, output_tokens=500),  # repeats children
                _gpt(1000, 200, 0.01, at=60),
                tool("search", at=120),
                _gpt(2000, 300, 0.02, at=900, cache_read_tokens=1500, reasoning_tokens=120),
                session="s-ana",
            ),
        ),
        (
            "t-ana-2",
            _ide(
                "ana",
                datetime(2026, 3, 4, 10),
                root(),
                generation(
                    **CLAUDE,
                    input_tokens=500,
                    output_tokens=100,
                    cache_write_tokens=400,
                    cost_usd=0.005,
                    cost_source="provided",
                ),
                session="s-ana",
            ),
        ),
        ("t-dan", _ide("dan", datetime(2026, 3, 4, 11), root(), _gpt(100, 10, 0.001))),
        (
            "t-bob-running",
            _ide(
                "bob",
                datetime(2026, 3, 5, 9),
                root(seconds=None),
                _gpt(100, 0, 0.001),
                session="s-bob",
            ),
        ),
        (
            "t-bob-timeout",
            _ide(
                "bob",
                datetime(2026, 3, 5, 9, 30),
                root(status="error", error_type="timeout"),
                _gpt(300, 50, 0.003),
                session="s-bob",
            ),
        ),
        (
            "t-hal",
            _trace(
                "hal",
                datetime(2026, 3, 5, 16),
                root("ask"),
                generation(
                    "mistral-large-latest",
                    "mistral",
                    input_tokens=600,
                    output_tokens=60,
                    cost_usd=0.002,
                ),
                module="cli",
            ),
        ),
        (
            "t-bob-nosession",
            _ide(
                "bob",
                datetime(2026, 3, 6, 12),
                root(),
                _gpt(1200, 100, 0.004, cache_read_tokens=1000),
                embedding(at=3, input_tokens=50, cost_usd=0.00001),
            ),
        ),
        (
            "t-bob-beta",
            _ide("bob", datetime(2026, 3, 6, 13), root(), _gpt(200, 20, 0.002), team="beta"),
        ),
        (
            "t-eve-error",
            _chat(
                "eve",
                datetime(2026, 3, 6, 14),
                root(status="error", error_type="ValueError"),
                generation(**CLAUDE, input_tokens=800, cost_usd=0.006),
                session="s-eve",
            ),
        ),
        (
            "t-ana-staging",
            _ide(
                "ana",
                datetime(2026, 3, 7, 8),
                root(),
                generation(
                    "house-model",
                    "acme",
                    input_tokens=400,
                    output_tokens=40,
                    cost_source="unpriced",
                ),
                environment="staging",
            ),
        ),
        ("t-kim", _ide("kim", datetime(2026, 3, 7, 12))),
        (
            "t-late",
            _chat(
                "eve",
                datetime(2026, 3, 8, 23, 59),
                root(seconds=300),
                generation(**CLAUDE, at=90, input_tokens=700, output_tokens=70, cost_usd=0.007),
                session="s-eve",
            ),
        ),
        # After the week.
        ("t-fay", _ide("fay", datetime(2026, 3, 21, 9))),
    ]


def _gpt(input_tokens: int, output_tokens: int, cost_usd: float, at: float = 1.0, **kwargs):
    return generation(
        input_tokens=input_tokens, output_tokens=output_tokens, cost_usd=cost_usd, at=at, **kwargs
    )


def week(**kwargs) -> Filters:
    """The edge-case week, with other filters as given."""
    return Filters(start=kwargs.pop("start", WEEK_START), end=kwargs.pop("end", WEEK_END), **kwargs)


# Filter combinations every query is checked under (name -> Filters).
FILTER_CASES: dict[str, Filters] = {
    "week": week(),
    "team alpha": week(teams=("alpha",)),
    "team beta": week(teams=("beta",)),
    "alpha and an unknown team": week(teams=("alpha", "nope")),
    "only an unknown team": week(teams=("nope",)),
    "no team at all": week(teams=()),
    "production": week(environments=("production",)),
    "staging": week(environments=("staging",)),
    "alpha in staging": week(teams=("alpha",), environments=("staging",)),
    "no environment at all": week(environments=()),
    "the day the midnight trace starts": week(start=date(2026, 3, 3), end=date(2026, 3, 3)),
    "the day after it": week(start=date(2026, 3, 4), end=date(2026, 3, 4)),
    "Monday: only a call of Sunday's trace": week(start=WEEK_START, end=WEEK_START),
    "previous week": week().previous(),
    "empty period": week(start=date(2025, 6, 1), end=date(2025, 6, 7)),
    "first quarter": week(start=date(2026, 1, 1), end=date(2026, 3, 31)),
}
