"""The state machine of one rule (or one group of it): from a measurement to a state.

States: OK, WARNING, ALERT, NO_DATA, MUTED. A value past the alert threshold
calls for ALERT, past the warning threshold for WARNING ("past" = above, or
below for a "below" rule). Getting worse waits for the pending period: the
condition must hold that long, at every evaluation, before the state changes.
Getting better needs the value back past the threshold by the recovery margin
(a fraction of the threshold), so a value hovering at the threshold does not
flap. Too few runs, or no value at all, is "no data": the rule's setting says
whether that means OK, keeping the state, or NO_DATA. Pure functions: the
evaluator stores what they return, the backtest replays them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from telemetry.timeutil import US_PER_SECOND

OK, WARNING, ALERT, NO_DATA, MUTED = "OK", "WARNING", "ALERT", "NO_DATA", "MUTED"
STATES = (OK, WARNING, ALERT, NO_DATA, MUTED)
PROBLEMS = (WARNING, ALERT)
NO_DATA_OK, NO_DATA_KEEP, NO_DATA_STATE = "ok", "keep", "no_data"
NO_DATA_CHOICES = (NO_DATA_OK, NO_DATA_KEEP, NO_DATA_STATE)
ABOVE, BELOW = "above", "below"
_SEVERITY = {WARNING: 1, ALERT: 2}


@dataclass(frozen=True)
class Condition:
    """When a rule fires, and how it settles (see the module doc)."""

    direction: str
    threshold: float
    warn_threshold: float | None = None
    recovery_margin: float = 0.0
    min_runs: int = 0
    pending_s: int = 0
    no_data: str = NO_DATA_KEEP

    def past(self, value: float, limit: float) -> bool:
        return value > limit if self.direction == ABOVE else value < limit

    def back(self, value: float, limit: float) -> bool:
        """True when ``value`` is back on the good side of ``limit`` by the recovery margin."""
        margin = abs(limit) * self.recovery_margin
        return value <= limit - margin if self.direction == ABOVE else value >= limit + margin

    def threshold_of(self, state: str) -> float | None:
        return {ALERT: self.threshold, WARNING: self.warn_threshold}.get(state)


@dataclass(frozen=True)
class Record:
    """What is stored between evaluations, per rule and group."""

    state: str = OK
    since_us: int = 0
    problem_since_us: int | None = None  # when this WARNING/ALERT episode began
    pending_state: str = ""
    pending_since_us: int | None = None


@dataclass(frozen=True)
class Change:
    """A change of state: what to record in the history and notify."""

    previous: str
    state: str
    threshold: float | None
    problem_since_us: int | None  # when the episode that ended (or goes on) began

    @property
    def notify(self) -> bool:
        """Muting and unmuting into OK are recorded but not sent; every other change is."""
        return self.state != MUTED and not (self.previous == MUTED and self.state == OK)


def level(condition: Condition, value: float, current: str) -> str:
    """OK, WARNING or ALERT for ``value``, given the ``current`` state (for the margin)."""
    if condition.past(value, condition.threshold):
        return ALERT
    if current == ALERT and not condition.back(value, condition.threshold):
        return ALERT
    warn = condition.warn_threshold
    if warn is not None:
        if condition.past(value, warn):
            return WARNING
        if current in PROBLEMS and not condition.back(value, warn):
            return WARNING
    return OK


def target_state(
    condition: Condition, record: Record, value: float | None, runs: int | None, muted: bool
) -> str:
    """The state the measurement calls for, before the pending period is applied."""
    if muted:
        return MUTED
    if value is None or (condition.min_runs and (runs or 0) < condition.min_runs):
        if condition.no_data == NO_DATA_STATE:
            return NO_DATA
        if condition.no_data == NO_DATA_KEEP and record.state != MUTED:
            return record.state
        return OK
    return level(condition, value, record.state if record.state in PROBLEMS else OK)


def step(
    condition: Condition,
    record: Record | None,
    value: float | None,
    runs: int | None,
    at_us: int,
    *,
    muted: bool = False,
) -> tuple[Record, Change | None]:
    """The stored record after one evaluation at ``at_us``, and the change it made (if any)."""
    record = record or Record(since_us=at_us)
    target = target_state(condition, record, value, runs, muted)
    worse = _SEVERITY.get(target, 0) > _SEVERITY.get(record.state, 0)
    if worse and condition.pending_s > 0:
        if record.pending_state != target or record.pending_since_us is None:
            return replace(record, pending_state=target, pending_since_us=at_us), None
        if at_us - record.pending_since_us < condition.pending_s * US_PER_SECOND:
            return record, None
    if target == record.state:
        return replace(record, pending_state="", pending_since_us=None), None
    return _moved(condition, record, target, at_us)


def _moved(condition: Condition, record: Record, target: str, at_us: int) -> tuple[Record, Change]:
    was_problem = record.state in PROBLEMS
    if target in PROBLEMS:
        began = record.problem_since_us if was_problem else at_us
        # A pending period that ran out dates the episode from when the condition began.
        if record.pending_since_us is not None and not was_problem:
            began = record.pending_since_us
    else:
        began = None
    threshold = condition.threshold_of(target)
    if target == OK and was_problem:
        threshold = condition.threshold_of(record.state)
    change = Change(
        previous=record.state,
        state=target,
        threshold=threshold,
        problem_since_us=record.problem_since_us if was_problem else began,
    )
    return Record(state=target, since_us=at_us, problem_since_us=began), change
