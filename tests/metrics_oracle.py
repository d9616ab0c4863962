"""docs/metrics.md computed in plain Python over a Dataset's own records (no SQL, no query layer).

The expected values of the query tests: each definition is written again here,
as directly as docs/metrics.md words it, over the rows the factory wrote.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from telemetry.filters import Filters
from tests.factories import Dataset

LLM_CALLS = {"generation", "embedding"}
TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")


def _us(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))


def period_bounds(filters: Filters) -> tuple[int, int]:
    """[first microsecond of the period, first microsecond after it).

    Whole days: midnight of the first day to midnight after the last. A window or
    "today so far" gives its instants as they were asked for.
    """
    start = datetime.combine(filters.start, time(), UTC)
    end = datetime.combine(filters.end, time(), UTC) + timedelta(days=1)
    low = _us(start) if filters.since_us is None else filters.since_us
    high = _us(end) if filters.until_us is None else filters.until_us
    return low, high


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


class Oracle:
    """The rows of ``ds`` that ``filters`` select, and every metric over them."""

    def __init__(self, ds: Dataset, filters: Filters) -> None:
        self.ds = ds
        self.filters = filters
        self.lo, self.hi = period_bounds(filters)
        names = filters.teams
        self.team_ids = None if names is None else {ds.teams[n] for n in names if n in ds.teams}
        self.traces = [t for t in ds.traces if self._in_scope(t)]
        self.calls = [o for o in ds.observations if o["kind"] in LLM_CALLS and self._in_scope(o)]

    def _in_scope(self, row: dict) -> bool:
        envs = self.filters.environments
        return (
            row["org_id"] == self.ds.org_id
            and self.lo <= row["start_us"] < self.hi
            and (self.team_ids is None or row["team_id"] in self.team_ids)
            and (envs is None or row["environment"] in envs)
        )

    # --- adoption -------------------------------------------------------------

    def directory(self) -> list[dict]:
        def exists(u: dict) -> bool:
            first = u["first_trace_us"]
            return u["created_us"] < self.hi or (first is not None and first < self.hi)

        return [
            u
            for u in self.ds.users.values()
            if u["status"] != "removed"
            and exists(u)
            and (self.team_ids is None or u["team_id"] in self.team_ids)
        ]

    def active_user_ids(self) -> set[int]:
        return {t["user_id"] for t in self.traces if t["user_id"] is not None}

    def adoption(self) -> dict[str, Any]:
        directory = self.directory()
        active = self.active_user_ids()
        first = {u["id"]: u["first_trace_us"] for u in self.ds.users.values()}
        activated = [u for u in directory if u["first_trace_us"] is not None]
        activated = [u for u in activated if u["first_trace_us"] < self.hi]
        return {
            "users_total": len(directory),
            "users_active": len(active),
            "users_new": sum(1 for uid in active if self.lo <= first[uid] < self.hi),
            "users_inactive": sum(1 for u in directory if u["id"] not in active),
            "activation_rate": _rate(len(activated), len(directory)),
            "active_modules": len({t["module"] for t in self.traces if t["module"]}),
            "users_activated": len(activated),
        }

    # --- runs -------------------------------------------------------------------

    def runs(self) -> dict[str, Any]:
        statuses = [t["status"] for t in self.traces]
        finished = sum(1 for s in statuses if s != "running")
        ok, errors, timeouts = (statuses.count(s) for s in ("ok", "error", "timeout"))
        return {
            "traces": len(self.traces),
            "sessions": len({t["session_id"] for t in self.traces if t["session_id"]}),
            "traces_without_session": sum(1 for t in self.traces if t["session_id"] is None),
            "finished": finished,
            "ok": ok,
            "errors": errors,
            "timeouts": timeouts,
            "running": statuses.count("running"),
            "completion_rate": _rate(ok, finished),
            "error_rate": _rate(errors, finished),
            "timeout_rate": _rate(timeouts, finished),
        }

    # --- tokens and cost --------------------------------------------------------

    def usage(self) -> dict[str, Any]:
        priced = sum(1 for o in self.calls if o["cost_source"] != "unpriced")
        totals = {name: sum(o[name] for o in self.calls) for name in TOKENS}
        return {
            **totals,
            "reasoning_tokens": sum(o["reasoning_tokens"] for o in self.calls),
            "cost_usd": sum(o["cost_usd"] for o in self.calls),
            "generations": len(self.calls),
            "priced_generations": priced,
            "priced_share": _rate(priced, len(self.calls)),
        }

    def by_model(self) -> dict[tuple[str, str], dict[str, Any]]:
        models: dict[tuple[str, str], dict[str, Any]] = {}
        for o in self.calls:
            entry = models.setdefault(
                (o["provider"], o["model"]),
                {"calls": 0, **dict.fromkeys(TOKENS, 0), "cost_usd": 0.0, "unpriced_calls": 0},
            )
            entry["calls"] += 1
            for name in TOKENS:
                entry[name] += o[name]
            entry["cost_usd"] += o["cost_usd"]
            entry["unpriced_calls"] += o["cost_source"] == "unpriced"
        return models

    def by_team(self) -> dict[str, dict[str, Any]]:
        names = {team_id: name for name, team_id in self.ds.teams.items()}
        teams: dict[str, dict[str, Any]] = {}

        def entry(team_id: int | None) -> dict[str, Any]:
            name = names.get(team_id, "(no team)")
            return teams.setdefault(name, {"users": set(), "traces": 0, "cost_usd": 0.0})

        for t in self.traces:
            entry(t["team_id"])["traces"] += 1
            if t["user_id"] is not None:
                entry(t["team_id"])["users"].add(t["user_id"])
        for o in self.calls:
            entry(o["team_id"])["cost_usd"] += o["cost_usd"]
        return {
            name: {
                "users_active": len(v["users"]),
                "traces": v["traces"],
                "cost_usd": v["cost_usd"],
            }
            for name, v in teams.items()
        }

    def per_module(self) -> dict[str, tuple[int, int]]:
        """module -> (traces, distinct users)."""
        return self._per(lambda t: t["module"] or "(no module)")

    def per_agent(self) -> dict[str, dict[str, Any]]:
        runs = self._per(lambda t: t["agent"] or "(no agent)")
        agents: dict[str, dict[str, Any]] = {}
        for name, (traces, users) in runs.items():
            mine = [t for t in self.traces if (t["agent"] or "(no agent)") == name]
            finished = [t for t in mine if t["status"] != "running"]
            errors = [t for t in finished if t["status"] == "error"]
            agents[name] = {
                "traces": traces,
                "users_active": users,
                "error_rate": _rate(len(errors), len(finished)),
                "cost_usd": 0.0,
            }
        for o in self.calls:
            name = o["agent"] or "(no agent)"
            agents.setdefault(
                name, {"traces": 0, "users_active": 0, "error_rate": None, "cost_usd": 0.0}
            )
            agents[name]["cost_usd"] += o["cost_usd"]
        return agents

    def _per(self, key) -> dict[str, tuple[int, int]]:
        groups: dict[str, list[dict]] = {}
        for t in self.traces:
            groups.setdefault(key(t), []).append(t)
        return {
            name: (len(rows), len({t["user_id"] for t in rows if t["user_id"] is not None}))
            for name, rows in groups.items()
        }

    def timeline(self) -> list[tuple[datetime, int, int]]:
        """(bucket start, traces, distinct users) for every bucket of the period, in order."""
        starts = _bucket_starts(self.filters)
        found: dict[datetime, list[dict]] = {start: [] for start in starts}
        for t in self.traces:
            moment = datetime(1970, 1, 1) + timedelta(microseconds=t["start_us"])
            found[_bucket_of(moment, self.filters.grouping)].append(t)
        return [
            (start, len(rows), len({t["user_id"] for t in rows if t["user_id"] is not None}))
            for start, rows in found.items()
        ]

    def scalars(self) -> dict[str, Any]:
        """Every scalar of ``metrics --json`` (costs unrounded)."""
        adoption = self.adoption()
        adoption.pop("users_activated")  # behind the activation rate, not a key of its own
        return {**adoption, **self.runs(), **self.usage()}


def expected_headline(ds: Dataset, filters: Filters) -> dict[str, Any]:
    """The ``metrics --json`` object computed by the oracle: scalars, then sorted lists."""
    oracle = Oracle(ds, filters)
    expected = oracle.scalars()
    expected["cost_usd"] = round(expected["cost_usd"], 6)
    models = [
        {"provider": provider, "model": model, **values}
        for (provider, model), values in oracle.by_model().items()
    ]
    models.sort(key=lambda m: (-round(m["cost_usd"], 9), -m["calls"], m["provider"], m["model"]))
    teams = [{"team": team, **values} for team, values in oracle.by_team().items()]
    teams.sort(key=lambda t: (-round(t["cost_usd"], 9), -t["traces"], t["team"]))
    for row in models + teams:
        row["cost_usd"] = round(row["cost_usd"], 6)
    expected["by_model"] = models
    expected["by_team"] = teams
    return expected


def _bucket_of(moment: datetime, grouping: str) -> datetime:
    """Naive UTC start of the 5 minutes / hour / day / ISO week (Monday) / month of ``moment``."""
    day = datetime(moment.year, moment.month, moment.day)
    if grouping == "5 minutes":
        return day + timedelta(hours=moment.hour, minutes=moment.minute - moment.minute % 5)
    if grouping == "hour":
        return day + timedelta(hours=moment.hour)
    if grouping == "week":
        return day - timedelta(days=day.weekday())
    if grouping == "month":
        return day.replace(day=1)
    return day


def _bucket_starts(filters: Filters) -> list[datetime]:
    step = {"5 minutes": timedelta(minutes=5), "hour": timedelta(hours=1)}.get(
        filters.grouping, timedelta(days=1)
    )
    low, high = period_bounds(filters)
    moment = _bucket_of(datetime(1970, 1, 1) + timedelta(microseconds=low), filters.grouping)
    last = datetime(1970, 1, 1) + timedelta(microseconds=high)
    starts: list[datetime] = []
    while moment < last:
        bucket = _bucket_of(moment, filters.grouping)
        if not starts or starts[-1] != bucket:
            starts.append(bucket)
        moment += step
    return starts
