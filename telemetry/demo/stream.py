"""The demo's traces as a deterministic stream of row batches, without a database.

Sessions are planned day by day; their traces are built in start order and
derived with :func:`telemetry.derive.summarize_trace`. Rows leave as lists in
fixed column orders, with local references that the writer swaps for database
ids: sessions are numbered 1, 2, ... in order of their first trace, traces
0, 1, ... in start order.
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from operator import itemgetter

from telemetry.demo.people import DemoUser
from telemetry.demo.plan import DemoSession, plan_session
from telemetry.demo.rhythm import daily_counts, start_in_day
from telemetry.demo.shapes import token_shapes
from telemetry.demo.spans import TraceBuilder
from telemetry.demo.storage import column_defaults
from telemetry.derive import summarize_trace
from telemetry.models import Observation, Trace
from telemetry.pricing import Pricer
from telemetry.timeutil import US_PER_DAY, US_PER_SECOND

BATCH_TRACES = 4000  # traces per batch, and per write transaction (~20,000 observations)
SESSION_COLUMNS = ("id", "org_id", "session_key", "user_id", "created_us")
TRACE_COLUMNS = tuple(c.name for c in Trace.__table__.columns)
OBSERVATION_COLUMNS = tuple(c.name for c in Observation.__table__.columns if c.name != "id")
_trace_row = itemgetter(*TRACE_COLUMNS)
_observation_row = itemgetter(*OBSERVATION_COLUMNS)


# A column added to the schema later gets its default instead of breaking the insert.
_TRACE_DEFAULTS = column_defaults(Trace.__table__)


@dataclass
class Batch:
    """Rows of consecutive traces, and the sessions that start among them."""

    first_trace: int  # local number of the batch's first trace
    sessions: list[list]  # in SESSION_COLUMNS order
    traces: list[list]  # in TRACE_COLUMNS order
    observations: list[list]  # in OBSERVATION_COLUMNS order


class TraceStream:
    """Plans sessions day by day and yields their traces in start order, in batches."""

    def __init__(
        self,
        org: int,
        seed: int,
        users: list[DemoUser],
        first_day: int,
        days: int,
        total: int,
        until_us: int,
    ) -> None:
        self.org, self.users = org, users
        self.first_day, self.days, self.total = first_day, days, total
        self.plan_rng = random.Random(f"{seed}:plan")
        self.fate_rng = random.Random(f"{seed}:fate")
        shapes = token_shapes()
        self.builder = TraceBuilder(random.Random(f"{seed}:traces"), shapes, Pricer(), org)
        # The period's end, or now when it ends today: no run starts in the future.
        self.period_end_us = min((first_day + days) * US_PER_DAY, until_us)
        self.running_from: int | None = None  # traces starting at or after this are running
        self.sessions_opened = 0
        self.traces_built = 0

    def batches(self) -> Iterator[Batch]:
        pending: list[tuple[int, int, DemoSession]] = []
        order = itertools.count()
        chosen: list[tuple[int, DemoSession]] = []
        counts = daily_counts(self.plan_rng, self.first_day, self.days, self.total)
        for offset, budget in enumerate(counts):
            day = self.first_day + offset
            for session in self._plan_day(day, budget):
                for start in session.starts:
                    heapq.heappush(pending, (start, next(order), session))
            is_last = offset == self.days - 1
            if is_last and pending:
                running = max(3, self.total // 20_000)
                self.running_from = heapq.nlargest(running, pending)[-1][0]
            day_end = (day + 1) * US_PER_DAY
            while pending and (is_last or pending[0][0] < day_end):
                start, _, session = heapq.heappop(pending)
                chosen.append((start, session))
                if len(chosen) >= BATCH_TRACES:
                    yield self._build(chosen)
                    chosen = []
        if chosen:
            yield self._build(chosen)

    def _plan_day(self, day: int, budget: int) -> list[DemoSession]:
        rng = self.plan_rng
        eligible = [u for u in self.users if u.active_on(day)]
        cumulative = list(itertools.accumulate(u.weight for u in eligible))
        sessions = []
        while budget > 0 and eligible:
            user = eligible[bisect_right(cumulative, rng.random() * cumulative[-1])]
            start = max(start_in_day(rng, day), user.created_us + 60 * US_PER_SECOND)
            session = plan_session(rng, user, start, budget, self.period_end_us)
            floor = user.created_us + US_PER_SECOND
            session.starts = [max(s, floor) for s in session.starts]
            budget -= len(session.starts)
            sessions.append(session)
        return sessions

    def _fate(self, session: DemoSession, start: int) -> str:
        if self.running_from is not None and start >= self.running_from:
            return "running"
        draw = self.fate_rng.random()
        if draw < session.agent.timeout_rate:
            return "timeout"
        if draw < session.agent.timeout_rate + session.agent.error_rate:
            return "error"
        return "ok"

    def _build(self, chosen: list[tuple[int, DemoSession]]) -> Batch:
        batch = Batch(self.traces_built, [], [], [])
        for start, session in chosen:
            if session.id is None:
                self.sessions_opened += 1
                session.id = self.sessions_opened
                batch.sessions.append([session.id, self.org, session.key, session.user.id, start])
            trace_id, spans = self.builder.build(session, start, self._fate(session, start))
            summary = {**_TRACE_DEFAULTS, **summarize_trace(spans)}
            summary.update(id=self.traces_built, org_id=self.org, trace_id=trace_id)
            batch.traces.append(list(_trace_row(summary)))
            for span in spans:
                attributes = span["attributes"]
                span["attributes"] = json.dumps(attributes) if attributes else "{}"
                span["trace_pk"] = self.traces_built
                batch.observations.append(list(_observation_row(span)))
            self.traces_built += 1
        return batch
