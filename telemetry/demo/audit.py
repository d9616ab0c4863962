"""The demo's audit trail: dashboard logins, exports and setting changes, plus the
one organization price that the trail says an admin set."""

from __future__ import annotations

import json
import random

from telemetry.demo.catalog import DASHBOARD_ACCOUNTS
from telemetry.demo.people import DemoUser
from telemetry.demo.rhythm import is_weekend, working_moment
from telemetry.models import UserStatus
from telemetry.timeutil import US_PER_SECOND, day_of_us

# A model the demo agents never call, so this price changes no stored cost.
NEGOTIATED_PRICE = {
    "model": "claude-opus-4-1",
    "provider": "anthropic",
    "input_per_mtok": 12.0,
    "output_per_mtok": 60.0,
    "cache_read_per_mtok": 1.2,
    "cache_write_per_mtok": 15.0,
}


# Changes the demo's state depends on (the price in force, who was invited or removed):
# kept when they would fall after now, moved to just before it. Later logins are left out.
_SETTINGS_KEPT = frozenset(("setting.update", "price.set", "user.invite", "user.remove"))


def _event(ts_us: int, actor: str, action: str, target: str = "", **details) -> dict:
    return {
        "ts_us": ts_us,
        "day": day_of_us(ts_us),
        "actor": actor,
        "action": action,
        "target": target,
        "details": json.dumps(details, sort_keys=True),
    }


def _sessions_of_day(rng: random.Random, day: int) -> list[dict]:
    events = []
    for username, role, team in DASHBOARD_ACCOUNTS:
        if rng.random() > (0.85 if role == "admin" else 0.55):
            continue
        login = working_moment(rng, day)
        if rng.random() < 0.05:
            events.append(_event(login - 40 * US_PER_SECOND, username, "login_failed"))
        events.append(_event(login, username, "login", role=role, team=team))
        if role == "manager" and rng.random() < 0.2:
            when = login + rng.randint(60, 1800) * US_PER_SECOND
            events.append(_event(when, username, "report.export", "Overview", format="pdf"))
        if rng.random() < 0.6:
            logout = login + rng.randint(300, 3 * 3600) * US_PER_SECOND
            events.append(_event(logout, username, "logout"))
    return events


def audit_events(
    rng: random.Random, first_day: int, days: int, users: list[DemoUser], until_us: int
) -> tuple[list[dict], dict]:
    """Audit rows (without org_id) in time order, and the model price they leave set.

    Nothing happens at or after ``until_us`` (now, when the period ends today):
    later logins are left out, later setting changes moved to just before it.
    """
    events: list[dict] = []
    for day in range(first_day, first_day + days):
        if not is_weekend(day):
            events.extend(_sessions_of_day(rng, day))

    def on(fraction: float) -> int:
        return working_moment(rng, first_day + int((days - 1) * fraction))

    events.append(
        _event(on(0.2), "admin", "setting.update", "content.max_chars", old=2000, new=4000)
    )
    first_set = on(0.3)
    revised = max(on(0.65), first_set + 1)
    price = dict(NEGOTIATED_PRICE)
    events.append(_event(first_set, "admin", "price.set", price["model"], **price))
    price.update(input_per_mtok=11.0, output_per_mtok=55.0)
    events.append(_event(revised, "admin", "price.set", price["model"], **price))
    for user in users:
        if user.status == UserStatus.INVITED.value:
            events.append(_event(user.created_us, "admin", "user.invite", user.external_id))
        if user.removed_us is not None:
            events.append(_event(user.removed_us, "admin", "user.remove", user.external_id))
    latest = until_us - 1
    events = [
        event if event["ts_us"] <= latest else {**event, "ts_us": latest, "day": day_of_us(latest)}
        for event in events
        if event["ts_us"] <= latest or event["action"] in _SETTINGS_KEPT
    ]
    events.sort(key=lambda event: (event["ts_us"], event["action"], event["actor"]))
    price["updated_us"] = min(revised, until_us - 1)
    return events, price
