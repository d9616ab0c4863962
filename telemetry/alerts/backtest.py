"""Try before saving: replay a rule over the last 30 days, "would have fired N times".

The replay measures the rule at sample times through the very function the
evaluator uses (:func:`telemetry.alerts.metrics.measure`) and runs the same
state machine over the samples, so what it shows is what the rule would have
done at those instants. Samples: for 7-day and month-to-date windows, each
midnight (whole days: read from the daily rollups); for 24-hour windows every
6 hours, for 1-hour and 15-minute windows every 3 hours (the windows' base rows
around each sample). A pending period shorter than the step acts at once.
Grouped rules replay their first groups only (:data:`MAX_GROUPS`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine

from telemetry.alerts.metrics import measure
from telemetry.alerts.rules import RuleSpec
from telemetry.alerts.state import ALERT, WARNING, step
from telemetry.alerts.windows import WINDOW_LABELS
from telemetry.timeutil import US_PER_DAY, US_PER_HOUR

DAYS = 30
MAX_GROUPS = 5
# Window -> (step between samples, how the UI says it).
STEPS = {
    "7d": (US_PER_DAY, "once a day at 00:00 UTC (from the daily rollups)"),
    "mtd": (US_PER_DAY, "once a day at 00:00 UTC (from the daily rollups)"),
    "24h": (6 * US_PER_HOUR, "every 6 hours (00:00, 06:00, 12:00, 18:00 UTC)"),
    "1h": (3 * US_PER_HOUR, "every 3 hours, each time over the hour before"),
    "15m": (3 * US_PER_HOUR, "every 3 hours, each time over the 15 minutes before"),
}
ALWAYS_SHARE = 0.9


@dataclass(frozen=True)
class Backtest:
    """The replay: ``series`` = DataFrame[at, group, value, state], one row per sample."""

    series: pd.DataFrame
    fired: int
    warned: int
    firing_share: float
    sampling: str
    groups_shown: int
    groups_total: int

    @property
    def always_firing(self) -> bool:
        return self.firing_share >= ALWAYS_SHARE

    @property
    def summary(self) -> str:
        times = "time" if self.fired == 1 else "times"
        text = f"Would have fired {self.fired} {times} in the last {DAYS} days"
        if self.warned:
            text += f" (and warned {self.warned} times)"
        if self.always_firing:
            text += f": it is in ALERT at {self.firing_share:.0%} of the samples, nearly always"
        return text + "."


def sample_times(window: str, end_us: int) -> list[int]:
    """Sample instants over the :data:`DAYS` days before ``end_us``, oldest first."""
    step_us, _ = STEPS[window]
    last = end_us - end_us % step_us
    count = DAYS * US_PER_DAY // step_us
    return [last - index * step_us for index in range(count - 1, -1, -1)]


def replay(engine: Engine, spec: RuleSpec, end_us: int, groups: list[str]) -> Backtest:
    """Replay ``spec`` (already checked) over the 30 days before ``end_us`` for ``groups``."""
    shown = groups[:MAX_GROUPS] or [""]
    rows, fired, warned = [], 0, 0
    for group in shown:
        record = None
        target = spec.target(group)
        for at_us in sample_times(spec.window, end_us):
            found = measure(
                engine, target, spec.metric, spec.window, at_us, need_runs=spec.min_runs > 0
            )
            record, change = step(spec.condition, record, found.value, found.runs, at_us)
            if change is not None:
                fired += change.state == ALERT
                warned += change.state == WARNING
            rows.append((pd.Timestamp(at_us, unit="us"), group, found.value, record.state))
    series = pd.DataFrame(rows, columns=["at", "group", "value", "state"])
    share = float((series["state"] == ALERT).mean()) if len(series) else 0.0
    sampling = (
        f"Sampled {STEPS[spec.window][1]}: each sample is the rule's window "
        f"({WINDOW_LABELS[spec.window]}) ending then, read as the evaluator reads it."
    )
    return Backtest(series, fired, warned, share, sampling, len(shown), len(groups) or 1)
