"""Demo sessions: who talks to which agent, where, and when each turn (trace) starts."""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

from telemetry.demo.catalog import AGENTS, Agent
from telemetry.demo.people import DemoUser
from telemetry.demo.rhythm import next_working_day, working_moment
from telemetry.timeutil import US_PER_DAY, US_PER_SECOND

MAX_TURNS = 12
SPANNING_SHARE = 0.06  # multi-turn sessions resumed on a later working day
# A run's spans start up to its agent's deadline after it and end within a minute
# more (the last step, then the root): a run starting this long before the end of
# the period has every span start and end inside it.
RUN_TAIL_US = (max(agent.deadline_s for agent in AGENTS) + 60) * US_PER_SECOND


@dataclass(eq=False)
class DemoSession:
    key: str
    user: DemoUser
    agent: Agent
    environment: str
    starts: list[int]  # epoch microseconds of each turn, ascending
    id: int | None = None  # database id, once inserted
    history_tokens: int = 0  # conversation carried into the next turn's prompt
    last_call_us: int | None = None  # end of the latest LLM call (prompt cache warmth)


_CUMULATIVE: dict[int, tuple[tuple, list[float]]] = {}


def weighted(rng: random.Random, pairs: tuple):
    """One item of a (constant) tuple of ``(item, weight)`` pairs."""
    table = _CUMULATIVE.get(id(pairs))
    if table is None or table[0] is not pairs:  # cached per tuple: called millions of times
        table = _CUMULATIVE[id(pairs)] = (pairs, list(accumulate(w for _, w in pairs)))
    cumulative = table[1]
    return pairs[bisect_right(cumulative, rng.random() * cumulative[-1])][0]


def turn_count(rng: random.Random, mean: float, budget: int) -> int:
    """1 + a geometric number of follow-ups with the given mean turns, within ``budget``."""
    follow_up = (mean - 1) / mean
    turns = 1
    while turns < MAX_TURNS and rng.random() < follow_up:
        turns += 1
    return min(turns, budget)


def _pause_us(rng: random.Random, median_s: float) -> int:
    seconds = min(max(rng.lognormvariate(math.log(median_s), 0.8), 15), 1800)
    return int(seconds * US_PER_SECOND)


def plan_session(
    rng: random.Random,
    user: DemoUser,
    start_us: int,
    budget: int,
    period_end_us: int,
) -> DemoSession:
    """A session of ``user`` starting at ``start_us`` with at most ``budget`` turns.

    All turns, and all their spans, fall inside the period: a session that would run
    past its end is moved earlier as a whole.
    """
    agent = weighted(rng, user.team.agents)
    environment = weighted(rng, user.team.environments)
    turns = turn_count(rng, agent.mean_turns, budget)
    resume_at = rng.randrange(1, turns) if turns > 1 and rng.random() < SPANNING_SHARE else 0
    starts = [start_us]
    for turn in range(1, turns):
        if turn == resume_at:
            day = next_working_day(starts[-1] // US_PER_DAY, rng.randint(1, 3))
            if user.active_on(day) and (day + 1) * US_PER_DAY <= period_end_us:
                starts.append(max(working_moment(rng, day), starts[-1] + US_PER_SECOND))
                continue
        starts.append(starts[-1] + _pause_us(rng, agent.think_s))
    latest_allowed = period_end_us - RUN_TAIL_US - rng.randrange(1800 * US_PER_SECOND)
    overshoot = starts[-1] - latest_allowed
    if overshoot > 0:
        starts = [start - overshoot for start in starts]
    key = f"sess_{rng.getrandbits(64):016x}"
    return DemoSession(key=key, user=user, agent=agent, environment=environment, starts=starts)
