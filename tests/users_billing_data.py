"""A small known month of telemetry for the Users and Billing tests (March 2026).

Teams alpha and beta in organization "default". Users:

- ana (alpha, Acme, ana@acme.io): t1 + t2 in session s1 on 2 March (t2 errors, its
  tool call fails), t3 in s2 on 5 March, t4 without session at 23:59:30 on 5 March
  whose unpriced acme-llm call starts after midnight (6 March), t10 on 2 April.
- bob (alpha, Beta Corp, suspended): t5 in s3 on 10 March, t6 in s4 on 11 March (error,
  no LLM call).
- cyd (beta, Acme): t7 in s5 on 12 March (a generation and an embedding), t9 in s5
  on 20 March still running, and t12 on 25 March recorded under team alpha.
- dee (alpha, Zeta): never traced (inactive). eve (beta): removed, never traced.
- fay (alpha): created 10 April, after March. gus (alpha): one trace in February.
- t8 on 15 March (team alpha) carries no user; t11 on 31 March at 23:59:50 (ana)
  has a call at 00:00:10 on 1 April, so its cost is April's.

Audit events: two by ana (by id and by email), one about ana, one by bob.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine, insert

from telemetry.filters import Filters
from telemetry.models import AuditEvent, CostSource, SpanStatus, UserStatus
from telemetry.timeutil import day_of_us, to_us
from tests.factories import Dataset, embedding, generation, root, tool

MARCH = Filters(start=date(2026, 3, 1), end=date(2026, 3, 31))
ALPHA, BETA = "alpha", "beta"


def build_month(engine: Engine) -> Dataset:
    ds = Dataset(engine)
    jan = datetime(2026, 1, 1)
    ds.user("ana", team=ALPHA, created=jan, email="ana@acme.io", company="Acme")
    ds.user(
        "bob",
        team=ALPHA,
        created=jan,
        email="bob@beta-corp.com",
        company="Beta Corp",
        status=UserStatus.SUSPENDED,
    )
    ds.user("cyd", team=BETA, created=jan, email="cyd@acme.io", company="Acme")
    ds.user("dee", team=ALPHA, created=jan, name="Dee Dee", company="Zeta")
    ds.user("eve", team=BETA, created=jan, status=UserStatus.REMOVED)
    ds.user("fay", team=ALPHA, created=datetime(2026, 4, 10))
    ds.user("gus", team=ALPHA, created=jan, email="gus@zeta.org", company="Zeta")

    ds.trace(
        "g1",
        user="gus",
        start=datetime(2026, 2, 20, 9),
        spans=[root(), generation(input_tokens=100, output_tokens=10, cost_usd=0.02)],
    )
    ds.trace(
        "t1",
        user="ana",
        session="s1",
        start=datetime(2026, 3, 2, 10),
        spans=[
            root(seconds=60),
            generation(input_tokens=1000, output_tokens=200, cost_usd=0.10),
            tool("search"),
        ],
    )
    ds.trace(
        "t2",
        user="ana",
        session="s1",
        start=datetime(2026, 3, 2, 11),
        spans=[
            root(seconds=20, status=SpanStatus.ERROR, error_type="ValueError"),
            generation(input_tokens=500, output_tokens=100, cost_usd=0.05),
            tool("search", status=SpanStatus.ERROR),
        ],
    )
    ds.trace(
        "t3",
        user="ana",
        session="s2",
        start=datetime(2026, 3, 5, 9),
        spans=[
            root(seconds=30),
            generation(
                "claude-sonnet-4",
                "anthropic",
                input_tokens=2000,
                output_tokens=300,
                cache_read_tokens=800,
                cache_write_tokens=200,
                cost_usd=0.30,
                cost_source=CostSource.PROVIDED,
            ),
        ],
    )
    ds.trace(
        "t4",
        user="ana",
        start=datetime(2026, 3, 5, 23, 59, 30),
        spans=[
            root(seconds=120),
            generation(
                "acme-llm",
                "acme",
                at=60,
                input_tokens=100,
                output_tokens=10,
                cost_source=CostSource.UNPRICED,
            ),
        ],
    )
    ds.trace(
        "t5",
        user="bob",
        session="s3",
        start=datetime(2026, 3, 10, 14),
        spans=[root(seconds=10), generation(input_tokens=300, output_tokens=50, cost_usd=0.03)],
    )
    ds.trace(
        "t6",
        user="bob",
        session="s4",
        start=datetime(2026, 3, 11, 14),
        spans=[root(seconds=5, status=SpanStatus.ERROR, error_type="KeyError")],
    )
    ds.trace(
        "t7",
        user="cyd",
        session="s5",
        start=datetime(2026, 3, 12, 8),
        spans=[
            root(seconds=40),
            generation(input_tokens=400, output_tokens=40, cost_usd=0.04),
            embedding(input_tokens=1000, cost_usd=0.001),
        ],
    )
    ds.trace(
        "t8",
        team=ALPHA,
        start=datetime(2026, 3, 15, 12),
        spans=[root(), generation(input_tokens=100, output_tokens=10, cost_usd=0.01)],
    )
    ds.trace(
        "t9",
        user="cyd",
        session="s5",
        start=datetime(2026, 3, 20, 8),
        spans=[root(seconds=None)],
    )
    ds.trace(
        "t12",
        user="cyd",
        team=ALPHA,
        start=datetime(2026, 3, 25, 8),
        spans=[root(seconds=8), generation(input_tokens=50, output_tokens=5, cost_usd=0.005)],
    )
    ds.trace(
        "t11",
        user="ana",
        start=datetime(2026, 3, 31, 23, 59, 50),
        spans=[root(seconds=60), generation(at=20, input_tokens=10, output_tokens=1, cost_usd=0.2)],
    )
    ds.trace(
        "t10",
        user="ana",
        start=datetime(2026, 4, 2, 9),
        spans=[root(seconds=15), generation(input_tokens=100, output_tokens=20, cost_usd=0.5)],
    )
    _audit(engine, ds.org_id)
    return ds


def _audit(engine: Engine, org_id: int) -> None:
    events = [
        (datetime(2026, 3, 3, 9), "ana", "export", "Users"),
        (datetime(2026, 3, 4, 9), "ana@acme.io", "login", ""),
        (datetime(2026, 3, 6, 9), "admin", "user.update", "ana"),
        (datetime(2026, 3, 7, 9), "bob", "login", ""),
    ]
    rows = [
        {
            "org_id": org_id,
            "ts_us": to_us(when),
            "day": day_of_us(to_us(when)),
            "actor": actor,
            "action": action,
            "target": target,
            "details": "{}",
        }
        for when, actor, action, target in events
    ]
    with engine.begin() as conn:
        conn.execute(insert(AuditEvent), rows)
