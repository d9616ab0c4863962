"""The rule state machine: thresholds, pending period, recovery margin, no data, muting."""

from __future__ import annotations

from telemetry.alerts.state import (
    ABOVE,
    ALERT,
    BELOW,
    MUTED,
    NO_DATA,
    NO_DATA_OK,
    NO_DATA_STATE,
    OK,
    WARNING,
    Condition,
    step,
)

MINUTE = 60 * 1_000_000
T0 = 1_800_000_000 * 1_000_000


def replay(condition: Condition, values, *, runs=None, muted=()):
    """Feed one value a minute; return (state after each step, changes as (minute, prev, new))."""
    record, states, changes = None, [], []
    for minute, value in enumerate(values):
        count = runs[minute] if runs is not None else 100
        record, change = step(
            condition, record, value, count, T0 + minute * MINUTE, muted=minute in muted
        )
        states.append(record.state)
        if change is not None:
            changes.append((minute, change.previous, change.state))
    return states, changes


def test_above_alert_and_warning_thresholds():
    rule = Condition(ABOVE, threshold=0.05, warn_threshold=0.03)
    states, changes = replay(rule, [0.01, 0.04, 0.06, 0.04, 0.01])
    assert states == [OK, WARNING, ALERT, WARNING, OK]
    assert changes == [(1, OK, WARNING), (2, WARNING, ALERT), (3, ALERT, WARNING), (4, WARNING, OK)]


def test_equal_to_the_threshold_does_not_fire():
    states, _ = replay(Condition(ABOVE, threshold=0.05), [0.05])
    assert states == [OK]


def test_below_rule_fires_under_the_threshold():
    rule = Condition(BELOW, threshold=10, warn_threshold=20)
    states, _ = replay(rule, [30, 15, 5, 25])
    assert states == [OK, WARNING, ALERT, OK]


def test_pending_period_needs_the_condition_to_hold_that_long():
    rule = Condition(ABOVE, threshold=1.0, pending_s=120)
    states, changes = replay(rule, [2, 2, 0, 2, 2, 2, 2])
    # minute 0 and 1 breach, 2 breaks it, 3..5 breach again: fires at minute 5 (3 + 2 min)
    assert states == [OK, OK, OK, OK, OK, ALERT, ALERT]
    assert changes == [(5, OK, ALERT)]


def test_recovery_margin_keeps_a_hovering_value_from_flapping():
    rule = Condition(ABOVE, threshold=100, recovery_margin=0.1)
    states, changes = replay(rule, [101, 99, 101, 95, 89])
    assert states == [ALERT, ALERT, ALERT, ALERT, OK]
    assert changes == [(0, OK, ALERT), (4, ALERT, OK)]


def test_too_few_runs_is_quiet_by_the_no_data_setting():
    values = [0.9, 0.9, 0.9]
    runs = [3, 50, 3]
    keep = Condition(ABOVE, threshold=0.5, min_runs=20)
    assert replay(keep, values, runs=runs)[0] == [OK, ALERT, ALERT]
    as_ok = Condition(ABOVE, threshold=0.5, min_runs=20, no_data=NO_DATA_OK)
    assert replay(as_ok, values, runs=runs)[0] == [OK, ALERT, OK]
    as_state = Condition(ABOVE, threshold=0.5, min_runs=20, no_data=NO_DATA_STATE)
    assert replay(as_state, values, runs=runs)[0] == [NO_DATA, ALERT, NO_DATA]


def test_no_value_is_no_data():
    rule = Condition(ABOVE, threshold=0.5, no_data=NO_DATA_STATE)
    assert replay(rule, [None, 0.1])[0] == [NO_DATA, OK]


def test_recovery_tells_how_long_the_problem_lasted():
    rule = Condition(ABOVE, threshold=1, warn_threshold=0.5)
    record, _ = step(rule, None, 0.7, 10, T0)  # WARNING at T0
    record, _ = step(rule, record, 2, 10, T0 + 10 * MINUTE)  # ALERT
    record, change = step(rule, record, 0.1, 10, T0 + 42 * MINUTE)
    assert (change.previous, change.state) == (ALERT, OK)
    assert change.problem_since_us == T0  # the episode began with the warning
    assert change.threshold == 1  # recovered from the alert threshold


def test_muting_is_recorded_but_not_sent_and_unmuting_into_a_problem_is():
    rule = Condition(ABOVE, threshold=1)
    states, changes = replay(rule, [2, 2, 2, 0, 2], muted={1, 2, 3})
    assert states == [ALERT, MUTED, MUTED, MUTED, ALERT]
    assert changes == [(0, OK, ALERT), (1, ALERT, MUTED), (4, MUTED, ALERT)]
    record, change = step(rule, None, 2, 1, T0, muted=True)
    assert change.state == MUTED and not change.notify
    record, change = step(rule, record, 2, 1, T0 + MINUTE)
    assert change.state == ALERT and change.notify
    record, change = step(rule, None, 0, 1, T0, muted=True)
    record, change = step(rule, record, 0, 1, T0 + MINUTE)
    assert (change.previous, change.state, change.notify) == (MUTED, OK, False)
