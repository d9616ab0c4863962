"""The demo's end users: who they are, their team, status and when they use the agents."""

from __future__ import annotations

import random
from dataclasses import dataclass

from telemetry.demo.catalog import COMPANIES, FIRST_NAMES, LAST_NAMES, TEAMS, TeamProfile
from telemetry.models import UserStatus
from telemetry.timeutil import US_PER_DAY, US_PER_HOUR

# Special lives handed out round-robin over the teams so every team keeps regular users.
_ROLES = (
    ["invited"] * 2  # invited recently, never used an agent
    + ["never"] * 3  # account created, never activated
    + ["removed"]  # used the agents early on, then removed
    + ["faded"] * 4  # active early in the period, inactive in the recent part
    + ["new"] * 6  # joined during the period
)
_DOMAINS = {"Northwind Consulting": "northwind.example", "Globex Partners": "globex.example"}


@dataclass
class DemoUser:
    external_id: str
    name: str
    email: str
    company: str
    team: TeamProfile
    status: str
    created_us: int
    first_day: int | None  # window of days in which the user may start sessions
    last_day: int | None
    weight: float  # how heavily the user leans on the agents
    id: int | None = None  # database ids, once inserted
    team_id: int | None = None
    removed_us: int | None = None

    def active_on(self, day: int) -> bool:
        return self.first_day is not None and self.first_day <= day <= self.last_day


def _identity(rng: random.Random, used: set[str]) -> tuple[str, str, str]:
    while True:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        if f"{first} {last}" not in used:
            used.add(f"{first} {last}")
            break
    company = rng.choices([c for c, _ in COMPANIES], [w for _, w in COMPANIES])[0]
    domain = _DOMAINS.get(company, "acme.example")
    return f"{first} {last}", f"{first}.{last}@{domain}".lower(), company


def _day_at(first_day: int, days: int, fraction: float) -> int:
    return first_day + min(days - 1, max(0, round((days - 1) * fraction)))


def _time_in_day(rng: random.Random, day: int) -> int:
    return day * US_PER_DAY + rng.randint(8, 17) * US_PER_HOUR + rng.randrange(US_PER_HOUR)


def demo_users(seed: int, first_day: int, days: int, until_us: int) -> list[DemoUser]:
    """The demo users for a seed and period (the same list every time)."""
    return build_users(random.Random(f"{seed}:users"), first_day, days, until_us)


def build_users(rng: random.Random, first_day: int, days: int, until_us: int) -> list[DemoUser]:
    """All demo users, in team order, for a period of ``days`` days from ``first_day``.

    Nobody is created or removed at or after ``until_us`` (now, when the period
    ends today): such a moment is moved to an hour before it.
    """
    users: list[DemoUser] = []
    used_names: set[str] = set()
    by_team: dict[str, list[int]] = {}
    last_day = first_day + days - 1
    for team in TEAMS:
        for _ in range(team.size):
            name, email, company = _identity(rng, used_names)
            created = _time_in_day(rng, first_day - rng.randint(20, 400))
            users.append(
                DemoUser(
                    external_id=f"usr_{rng.getrandbits(40):010x}",
                    name=name,
                    email=email,
                    company=company,
                    team=team,
                    status=UserStatus.ACTIVE.value,
                    created_us=created,
                    first_day=first_day,
                    last_day=last_day,
                    weight=rng.lognormvariate(0, 0.9),
                )
            )
            by_team.setdefault(team.name, []).append(len(users) - 1)
    for number, role in enumerate(_ROLES):
        candidates = by_team[TEAMS[number % len(TEAMS)].name]
        index = candidates.pop(rng.randrange(len(candidates)))
        _give_role(rng, users[index], role, first_day, days)
    latest = until_us - US_PER_HOUR
    for user in users:
        user.created_us = min(user.created_us, latest)
        if user.removed_us is not None:
            user.removed_us = min(user.removed_us, latest)
    return users


def _give_role(rng: random.Random, user: DemoUser, role: str, first_day: int, days: int) -> None:
    if role in ("invited", "never"):
        user.first_day = user.last_day = None
    if role == "invited":
        user.status = UserStatus.INVITED.value
        user.created_us = _time_in_day(rng, _day_at(first_day, days, rng.uniform(0.85, 1.0)))
    if role in ("removed", "faded"):
        user.weight = max(user.weight, 1.5)  # they did use the agents before going quiet
    if role == "removed":
        user.last_day = _day_at(first_day, days, rng.uniform(0.35, 0.45))
        user.status = UserStatus.REMOVED.value
        user.removed_us = _time_in_day(rng, min(user.last_day + 2, first_day + days - 1))
    elif role == "faded":
        user.last_day = _day_at(first_day, days, rng.uniform(0.3, 0.6))
    elif role == "new":
        joined = _day_at(first_day, days, rng.uniform(0.15, 0.8))
        user.created_us = _time_in_day(rng, joined)
        user.first_day = min(joined + 1, first_day + days - 1)
