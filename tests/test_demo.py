"""The demo data generator: deterministic, realistic, priced right, kept to its own org."""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import genai_prices
import pytest
from sqlalchemy import insert, text

from telemetry.cli import main
from telemetry.demo import (
    DEMO_ORG,
    DEMO_ORG_NAME,
    derive_shapes,
    generate_demo,
    is_demo_org,
    remove_demo,
    worker,
)
from telemetry.demo.catalog import CATALOG_MODELS
from telemetry.demo.shapes import PROMPT, SHAPES_PATH, token_shapes
from telemetry.demo.storage import org_scoped_tables
from telemetry.models import (
    AuditEvent,
    Observation,
    Organization,
    Session,
    Team,
    Trace,
    User,
)

END = date(2026, 3, 16)  # a Monday
SMALL = {"days": 10, "traces": 600, "end": END}
US_PER_DAY = 86_400_000_000


def rows(engine, sql: str, **params) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql), params)]


def demo_id(engine) -> int:
    return rows(engine, "SELECT id FROM organization WHERE slug = 'demo'")[0][0]


def fingerprint(engine) -> dict[str, list[tuple]]:
    """The demo org's content keyed by natural keys (database ids differ between runs)."""
    org = demo_id(engine)
    trace_columns = [c.name for c in Trace.__table__.columns if c.name not in ("id", "org_id")]
    obs_columns = [
        c.name for c in Observation.__table__.columns if c.name not in ("id", "org_id", "trace_pk")
    ]
    keyed = {"user_id": "u.external_id", "team_id": "tm.name", "session_id": "s.session_key"}

    def expressions(alias: str, columns: list[str]) -> str:
        return ", ".join(keyed.get(c, f"{alias}.{c}") for c in columns)

    joins = (
        "LEFT JOIN end_user u ON u.id = {a}.user_id LEFT JOIN team tm ON tm.id = {a}.team_id "
        "LEFT JOIN session s ON s.id = {a}.session_id"
    )
    return {
        "org": rows(engine, "SELECT slug, name, created_us FROM organization WHERE id = :o", o=org),
        "users": sorted(
            rows(
                engine,
                "SELECT u.external_id, u.name, u.email, u.company, tm.name, u.status, "
                "u.created_us, u.first_trace_us, u.last_trace_us FROM end_user u "
                "JOIN team tm ON tm.id = u.team_id WHERE u.org_id = :o",
                o=org,
            )
        ),
        "sessions": sorted(
            rows(
                engine,
                "SELECT s.session_key, u.external_id, s.created_us FROM session s "
                "JOIN end_user u ON u.id = s.user_id WHERE s.org_id = :o",
                o=org,
            )
        ),
        "traces": sorted(
            rows(
                engine,
                f"SELECT {expressions('t', trace_columns)} FROM trace t {joins.format(a='t')} "
                "WHERE t.org_id = :o",
                o=org,
            ),
            key=repr,
        ),
        "observations": sorted(
            rows(
                engine,
                f"SELECT tr.trace_id, {expressions('x', obs_columns)}"
                f" FROM observation x JOIN trace tr ON tr.id = x.trace_pk {joins.format(a='x')} "
                "WHERE x.org_id = :o",
                o=org,
            ),
            key=repr,
        ),
        "audit": sorted(
            rows(
                engine,
                "SELECT ts_us, day, actor, action, target, details FROM audit_event "
                "WHERE org_id = :o",
                o=org,
            )
        ),
        "prices": rows(
            engine,
            "SELECT model, provider, input_per_mtok, output_per_mtok, updated_us FROM model_price "
            "WHERE org_id = :o",
            o=org,
        ),
    }


@pytest.fixture
def demo(engine):
    generate_demo(engine, seed=7, **SMALL)
    return engine


# --- determinism and isolation ------------------------------------------------


def test_same_seed_and_end_give_identical_rows_and_another_seed_does_not(engine):
    generate_demo(engine, seed=7, **SMALL)
    first = fingerprint(engine)
    generate_demo(engine, seed=7, **SMALL)  # replaces the previous content
    assert fingerprint(engine) == first
    assert len(first["traces"]) == 600
    generate_demo(engine, seed=8, **SMALL)
    other = fingerprint(engine)
    assert other["traces"] != first["traces"]
    assert other["users"] != first["users"]


def test_running_demo_twice_gives_the_same_counts(engine):
    once = generate_demo(engine, seed=3, **SMALL)
    counts = {
        t.name: rows(engine, f"SELECT count(*) FROM {t.name}")[0][0] for t in org_scoped_tables()
    }
    twice = generate_demo(engine, seed=3, **SMALL)
    again = {
        t.name: rows(engine, f"SELECT count(*) FROM {t.name}")[0][0] for t in org_scoped_tables()
    }
    assert once == twice
    assert again == counts
    assert once.traces == 600 and counts["trace"] == 600
    assert counts["observation"] == once.observations


def test_the_separate_builder_process_writes_the_same_rows(sqlite_engine, monkeypatch):
    generate_demo(sqlite_engine, seed=5, days=4, traces=300, end=END)
    in_process = fingerprint(sqlite_engine)
    monkeypatch.setattr(worker, "PARALLEL_FROM", 0)
    generate_demo(sqlite_engine, seed=5, days=4, traces=300, end=END)
    assert fingerprint(sqlite_engine) == in_process


def test_demo_never_touches_other_organizations_and_remove_deletes_it_all(engine):
    with engine.begin() as conn:
        other = conn.execute(
            insert(Organization).values(slug="acme", name="Acme", created_us=1)
        ).inserted_primary_key[0]
        team = conn.execute(insert(Team).values(org_id=other, name="Ops")).inserted_primary_key[0]
        user = conn.execute(
            insert(User).values(org_id=other, external_id="u1", team_id=team, created_us=1)
        ).inserted_primary_key[0]
        session = conn.execute(
            insert(Session).values(org_id=other, session_key="s1", user_id=user, created_us=2)
        ).inserted_primary_key[0]
        trace = conn.execute(
            insert(Trace).values(
                org_id=other,
                trace_id="t1",
                session_id=session,
                user_id=user,
                team_id=team,
                start_us=5,
                start_day=0,
                start_hour=0,
                start_month=23640,
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(Observation).values(
                org_id=other,
                trace_pk=trace,
                span_id="a",
                start_us=5,
                start_day=0,
                start_hour=0,
                start_month=23640,
                session_id=session,
                user_id=user,
            )
        )
        conn.execute(insert(AuditEvent).values(org_id=other, ts_us=9, day=0, action="login"))

    def rows_outside(org: int) -> dict[str, list[tuple]]:
        tables = {t.name: "org_id" for t in org_scoped_tables()} | {"organization": "id"}
        return {
            name: sorted(rows(engine, f"SELECT * FROM {name} WHERE {key} <> :o", o=org), key=repr)
            for name, key in tables.items()
        }

    before = rows_outside(-1)
    summary = generate_demo(engine, seed=7, days=3, traces=150, end=END)
    org = demo_id(engine)
    assert rows_outside(org) == before
    assert rows(engine, "SELECT count(*) FROM trace WHERE org_id = :o", o=org) == [(150,)]

    removed = remove_demo(engine)
    assert removed > 1 + summary.teams + summary.users + summary.traces + summary.observations
    assert rows_outside(-1) == before
    assert rows(engine, "SELECT count(*) FROM organization WHERE slug = 'demo'") == [(0,)]
    for table in org_scoped_tables():
        assert rows(engine, f"SELECT count(*) FROM {table.name} WHERE org_id = :o", o=org) == [(0,)]
    assert remove_demo(engine) == 0


def test_foreign_keys_hold_after_generating_and_removing(sqlite_engine):
    generate_demo(sqlite_engine, seed=7, days=3, traces=150, end=END)
    assert rows(sqlite_engine, "PRAGMA foreign_key_check") == []
    assert rows(sqlite_engine, "PRAGMA foreign_keys") == [(1,)]  # enforcement is back on
    remove_demo(sqlite_engine)
    assert rows(sqlite_engine, "PRAGMA foreign_key_check") == []


def test_demo_org_is_named_as_generated_data(demo):
    assert rows(demo, "SELECT name FROM organization WHERE slug = 'demo'") == [(DEMO_ORG_NAME,)]
    assert "generated" in DEMO_ORG_NAME
    assert is_demo_org(DEMO_ORG) and is_demo_org("demo")
    assert not is_demo_org("default")


# --- realism, computed from the stored rows -------------------------------------


def test_people_teams_and_user_lives_are_realistic(demo):
    org = demo_id(demo)
    assert rows(demo, "SELECT count(*) FROM team WHERE org_id = :o", o=org)[0][0] >= 3
    users = rows(
        demo,
        "SELECT id, name, email, company, status, created_us, first_trace_us, last_trace_us "
        "FROM end_user WHERE org_id = :o",
        o=org,
    )
    assert len(users) >= 40
    assert all(name and "@" in email and company for _, name, email, company, *_ in users)
    statuses = Counter(u[4] for u in users)
    assert statuses["removed"] >= 1 and statuses["invited"] >= 2
    traced = {
        user: (first, last)
        for user, first, last in rows(
            demo,
            "SELECT user_id, min(start_us), max(start_us) FROM trace WHERE org_id = :o "
            "GROUP BY user_id",
            o=org,
        )
    }
    never = [u for u in users if u[0] not in traced]
    assert len(never) >= 3  # created but never activated
    assert all(u[6] is None and u[7] is None for u in never)
    for user_id, *_, created, first, last in users:
        if user_id in traced:
            assert (first, last) == traced[user_id]
            assert created <= first
    last_start = max(last for _, last in traced.values())
    quiet = [u for u in traced.values() if u[1] < last_start - 3 * US_PER_DAY]
    assert len(quiet) >= 3  # users inactive in the recent part of the period
    removed = [u for u in users if u[4] == "removed"]
    assert any(u[0] in traced for u in removed)


def test_several_modules_agents_and_environments(demo):
    org = demo_id(demo)
    modules = dict(
        rows(demo, "SELECT module, count(*) FROM trace WHERE org_id = :o GROUP BY 1", o=org)
    )
    assert {"code-assistant", "support-desk", "internal-search", "data-analyst"} <= set(modules)
    agents = {a for (a,) in rows(demo, "SELECT DISTINCT agent FROM trace WHERE org_id = :o", o=org)}
    assert len(agents) >= 4
    environments = dict(
        rows(demo, "SELECT environment, count(*) FROM trace WHERE org_id = :o GROUP BY 1", o=org)
    )
    assert environments["production"] > sum(environments.values()) / 2
    assert environments.get("staging", 0) > 0


def test_priced_models_from_three_providers_and_one_unpriced_custom_model(demo):
    org = demo_id(demo)
    calls = rows(
        demo,
        "SELECT provider, model, cost_source, count(*), sum(cost_usd) FROM observation "
        "WHERE org_id = :o AND kind IN ('generation', 'embedding') GROUP BY 1, 2, 3",
        o=org,
    )
    priced = {(p, m) for p, m, source, _, cost in calls if source == "catalog" and cost > 0}
    assert len(priced) >= 5
    assert len({p for p, _ in priced}) >= 3
    unpriced = [(p, m, n, cost) for p, m, source, n, cost in calls if source == "unpriced"]
    assert [(p, m) for p, m, _, _ in unpriced] == [("internal", "acme-coder-7b")]
    assert unpriced[0][2] > 0 and unpriced[0][3] == 0


def test_catalog_models_resolve_with_their_own_provider():
    when = datetime(2026, 1, 15, tzinfo=UTC)
    for model in CATALOG_MODELS:
        usage = genai_prices.Usage(input_tokens=1000, output_tokens=0 if model.embedding else 100)
        found = genai_prices.calc_price(
            usage, model.name, provider_id=model.provider, genai_request_timestamp=when
        )
        assert found.provider.id == model.provider, model.name


def test_all_four_tool_types_and_tool_errors_inside_ok_traces(demo):
    org = demo_id(demo)
    types = {
        t
        for (t,) in rows(
            demo,
            "SELECT DISTINCT tool_type FROM observation WHERE org_id = :o AND kind = 'tool'",
            o=org,
        )
    }
    assert types == {"workflow", "code", "mcp", "knowledge"}
    recovered = rows(
        demo,
        "SELECT count(*) FROM trace t WHERE t.org_id = :o AND t.status = 'ok' AND EXISTS "
        "(SELECT 1 FROM observation x WHERE x.trace_pk = t.id AND x.kind = 'tool' "
        "AND x.status = 'error')",
        o=org,
    )
    assert recovered[0][0] > 0


def test_errors_timeouts_and_running_traces_near_the_end(demo):
    org = demo_id(demo)
    statuses = dict(
        rows(demo, "SELECT status, count(*) FROM trace WHERE org_id = :o GROUP BY 1", o=org)
    )
    assert statuses["error"] > 0 and statuses["timeout"] > 0 and statuses["ok"] > 0
    roots = rows(
        demo,
        "SELECT x.status, x.error_type, x.end_us, t.status FROM observation x "
        "JOIN trace t ON t.id = x.trace_pk WHERE x.org_id = :o AND x.parent_span_id = ''",
        o=org,
    )
    assert all(r[0] == "error" and r[1] == "timeout" for r in roots if r[3] == "timeout")
    assert all(r[2] is None for r in roots if r[3] == "running")
    running = rows(
        demo, "SELECT start_us FROM trace WHERE org_id = :o AND status = 'running'", o=org
    )
    assert len(running) >= 1
    period_end = (END - date(1970, 1, 1)).days * US_PER_DAY + US_PER_DAY
    assert all(period_end - US_PER_DAY <= start < period_end for (start,) in running)
    latest_finished = rows(
        demo, "SELECT max(start_us) FROM trace WHERE org_id = :o AND status <> 'running'", o=org
    )[0][0]
    assert min(start for (start,) in running) >= latest_finished


def test_multi_turn_sessions_some_spanning_days(demo):
    org = demo_id(demo)
    sessions = rows(
        demo,
        "SELECT session_id, count(*), min(start_day), max(start_day) FROM trace "
        "WHERE org_id = :o GROUP BY session_id",
        o=org,
    )
    assert sum(1 for _, n, _, _ in sessions if n >= 3) > 10
    assert any(last > first for _, _, first, last in sessions)
    created = dict(rows(demo, "SELECT id, created_us FROM session WHERE org_id = :o", o=org))
    firsts = dict(
        rows(
            demo, "SELECT session_id, min(start_us) FROM trace WHERE org_id = :o GROUP BY 1", o=org
        )
    )
    assert created == firsts


def test_cached_tokens_are_part_of_the_input(demo):
    org = demo_id(demo)
    calls = rows(
        demo,
        "SELECT input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, "
        "reasoning_tokens FROM observation WHERE org_id = :o AND kind = 'generation'",
        o=org,
    )
    assert sum(1 for _, read, *_ in calls if read > 0) > len(calls) / 10
    assert all(read + write <= prompt for prompt, read, write, _, _ in calls)
    assert all(reasoning <= output for *_, output, reasoning in calls)


def test_code_lines_and_task_outcomes_only_on_the_coding_agent(demo):
    org = demo_id(demo)
    coded = rows(
        demo,
        "SELECT agent, code_lines_added, code_lines_removed, task_outcome, status FROM trace "
        "WHERE org_id = :o AND (code_lines_added IS NOT NULL OR task_outcome <> '')",
        o=org,
    )
    assert len(coded) > 20
    assert {agent for agent, *_ in coded} == {"coder"}
    assert {outcome for *_, outcome, _ in coded} - {""} == {"clean", "revised", "regression"}
    assert all(added >= 1 and removed >= 0 for _, added, removed, _, _ in coded)
    attributes = rows(
        demo,
        "SELECT x.attributes, x.parent_span_id, t.code_lines_added FROM observation x "
        "JOIN trace t ON t.id = x.trace_pk "
        "WHERE x.org_id = :o AND x.attributes LIKE '%code.lines%'",
        o=org,
    )
    assert len(attributes) == len([c for c in coded if c[1] is not None])
    for raw, parent, added in attributes:
        assert parent == "" and json.loads(raw)["code.lines_added"] == added


def test_audit_trail_has_logins_and_setting_changes(demo):
    org = demo_id(demo)
    actions = dict(
        rows(demo, "SELECT action, count(*) FROM audit_event WHERE org_id = :o GROUP BY 1", o=org)
    )
    assert actions["login"] >= 5
    assert actions["price.set"] >= 1 and actions["user.remove"] == 1
    price = rows(demo, "SELECT model FROM model_price WHERE org_id = :o", o=org)
    used = rows(
        demo,
        "SELECT count(*) FROM observation WHERE org_id = :o AND model = :m",
        o=org,
        m=price[0][0],
    )
    assert used == [(0,)]  # the negotiated price is for a model no demo call uses


def test_weekdays_and_working_hours_are_busier(demo):
    org = demo_id(demo)
    per_day = dict(
        rows(demo, "SELECT start_day, count(*) FROM trace WHERE org_id = :o GROUP BY 1", o=org)
    )
    weekday, weekend = [], []
    for offset in range(SMALL["days"]):
        day = END - timedelta(days=offset)
        count = per_day.get((day - date(1970, 1, 1)).days, 0)
        (weekend if day.weekday() >= 5 else weekday).append(count)
    assert sum(weekday) / len(weekday) > 2 * sum(weekend) / len(weekend)
    hours = Counter()
    for hour, count in rows(
        demo, "SELECT start_hour, count(*) FROM trace WHERE org_id = :o GROUP BY 1", o=org
    ):
        hours[hour % 24] += count
    assert sum(hours[h] for h in range(9, 17)) > 3 * sum(hours[h] for h in range(0, 8))


def test_trace_rows_agree_with_their_observations(demo):
    org = demo_id(demo)
    traces = rows(
        demo,
        "SELECT id, input_tokens, output_tokens, cache_read_tokens, cost_usd, generations, "
        "tool_calls, tool_errors, user_id, session_id, start_us FROM trace WHERE org_id = :o",
        o=org,
    )
    spans = defaultdict(list)
    for row in rows(
        demo,
        "SELECT trace_pk, kind, status, input_tokens, output_tokens, cache_read_tokens, cost_usd, "
        "user_id, session_id, start_us FROM observation WHERE org_id = :o",
        o=org,
    ):
        spans[row[0]].append(row)
    for (
        pk,
        prompt,
        output,
        read,
        cost,
        generations,
        tools,
        tool_errors,
        user,
        session,
        start,
    ) in traces:
        calls = [s for s in spans[pk] if s[1] in ("generation", "embedding")]
        tool_spans = [s for s in spans[pk] if s[1] == "tool"]
        assert prompt == sum(s[3] for s in calls) and output == sum(s[4] for s in calls)
        assert read == sum(s[5] for s in calls)
        assert cost == pytest.approx(sum(s[6] for s in calls), abs=1e-12)
        assert (generations, tools) == (len(calls), len(tool_spans))
        assert tool_errors == sum(1 for s in tool_spans if s[2] == "error")
        assert {(s[7], s[8]) for s in spans[pk]} == {(user, session)}
        assert start == min(s[9] for s in spans[pk])


# --- costs against the providers' published prices --------------------------------

# USD per million tokens: input, cached input read, cache write, output (list prices).
PUBLISHED = {
    "gpt-4o": (2.50, 1.25, None, 10.00),
    "gpt-4o-mini": (0.15, 0.075, None, 0.60),
    "gpt-4.1-mini": (0.40, 0.10, None, 1.60),
    "claude-sonnet-4-5": (3.00, 0.30, 3.75, 15.00),
    "claude-3-5-haiku-latest": (0.80, 0.08, 1.00, 4.00),
    "gemini-2.5-flash": (0.30, 0.03, None, 2.50),
    "mistral-large-latest": (2.00, None, None, 6.00),
}


def test_stored_costs_match_the_providers_price_lists(demo):
    org = demo_id(demo)
    checked = Counter()
    for model, prompt, read, write, output, cost in rows(
        demo,
        "SELECT model, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, "
        "cost_usd FROM observation WHERE org_id = :o AND kind = 'generation' "
        "AND input_tokens < 200000 ORDER BY start_us",
        o=org,
    ):
        if model not in PUBLISHED or checked[model] >= 5:
            continue
        rate_in, rate_read, rate_write, rate_out = PUBLISHED[model]
        expected = (
            (prompt - read - write) * rate_in
            + read * (rate_in if rate_read is None else rate_read)
            + write * (rate_in if rate_write is None else rate_write)
            + output * rate_out
        ) / 1_000_000
        assert cost == pytest.approx(expected, rel=1e-9), (model, prompt, read, write, output)
        checked[model] += 1
    assert set(checked) == set(PUBLISHED)
    with_cache = rows(
        demo,
        "SELECT count(*) FROM observation WHERE org_id = :o AND model = 'gpt-4o' "
        "AND cache_read_tokens > 0",
        o=org,
    )
    assert with_cache[0][0] > 0


# --- token shapes ---------------------------------------------------------------


def test_token_shapes_ship_with_their_attribution():
    shipped = json.loads(SHAPES_PATH.read_text())
    assert "CC-BY 4.0" in shipped["attribution"] and "Splitwise" in shipped["attribution"]
    for service in ("code", "conv"):
        for column in ("ContextTokens", "GeneratedTokens"):
            curve = shipped["services"][service][column]
            assert len(curve) == 101 and curve == sorted(curve)


def test_sampled_prompt_sizes_follow_the_shipped_quantiles():
    curve = json.loads(SHAPES_PATH.read_text())["services"]["conv"]["ContextTokens"]
    rng = random.Random(1)
    draws = [token_shapes().sample(rng, "conv", PROMPT) for _ in range(20_000)]
    for percent in (10, 50, 90):
        below = sum(1 for d in draws if d <= curve[percent]) / len(draws)
        assert below == pytest.approx(percent / 100, abs=0.02)


def test_derive_shapes_computes_quantiles_from_the_csv_files(tmp_path):
    for service in ("code", "conv"):
        lines = ["TIMESTAMP,ContextTokens,GeneratedTokens"]
        lines += [f"2023-11-16 18:00:00,{n},{2 * n}" for n in range(1, 102)]  # 1..101
        (tmp_path / f"AzureLLMInferenceTrace_{service}.csv").write_text("\n".join(lines))
    out = tmp_path / "shapes.json"
    assert derive_shapes.main([str(tmp_path), "--out", str(out)]) == 0
    derived = json.loads(out.read_text())
    assert derived["services"]["code"]["ContextTokens"] == [float(n) for n in range(1, 102)]
    assert derived["services"]["conv"]["GeneratedTokens"] == [float(2 * n) for n in range(1, 102)]
    assert derived["services"]["conv"]["requests"] == 101
    assert "CC-BY 4.0" in derived["attribution"]


def test_derive_shapes_says_which_file_is_missing(tmp_path, capsys):
    assert derive_shapes.main([str(tmp_path)]) == 2
    assert "AzureLLMInferenceTrace_code.csv not found" in capsys.readouterr().err


# --- the command line --------------------------------------------------------------


def test_cli_generates_and_removes_the_demo(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TELEMETRY_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    args = ["demo", "--days", "3", "--traces", "120", "--end", "2026-03-16", "--seed", "2"]
    assert main([*args, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "2026-03-14 to 2026-03-16" in out and "120 traces" in out
    assert main(["demo", "--remove"]) == 0
    assert "removed the 'demo' organization" in capsys.readouterr().out
    assert main(["demo", "--remove"]) == 0
    assert "no 'demo' organization" in capsys.readouterr().out


def test_cli_rejects_a_bad_size(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--traces", "0"])
    assert "at least 1" in capsys.readouterr().err


def test_progress_reaches_the_total(sqlite_engine):
    seen = []
    generate_demo(
        sqlite_engine, days=2, traces=90, end=END, progress=lambda d, t: seen.append((d, t))
    )
    assert seen[-1] == (90, 90)
    assert rows(sqlite_engine, "SELECT count(*) FROM trace") == [(90,)]


def test_dashboard_rollups_agree_with_the_generated_rows(demo):
    from telemetry.rollups import rollup_drift

    engine = demo
    with engine.connect() as conn:
        org = demo_id(engine)
        assert rollup_drift(conn, org) == []
        rolled = conn.execute(
            text("SELECT coalesce(sum(traces), 0) FROM trace_daily WHERE org_id = :o"), {"o": org}
        ).scalar()
        stored = conn.execute(
            text("SELECT count(*) FROM trace WHERE org_id = :o"), {"o": org}
        ).scalar()
    assert rolled == stored > 0


def test_a_period_ending_today_ends_now_nothing_starts_or_ends_later(sqlite_engine):
    # "Today" is END, and it is 09:20 UTC: busy working hours lie ahead of now.
    now = (END - date(1970, 1, 1)).days * US_PER_DAY + (9 * 60 + 20) * 60_000_000
    generate_demo(sqlite_engine, days=3, traces=400, end=END, now_us=now)
    org = demo_id(sqlite_engine)
    latest = {
        "run start": "SELECT max(start_us) FROM trace WHERE org_id = :o",
        "run end": "SELECT max(end_us) FROM trace WHERE org_id = :o",
        "span start": "SELECT max(start_us) FROM observation WHERE org_id = :o",
        "span end": "SELECT max(end_us) FROM observation WHERE org_id = :o",
        "session start": "SELECT max(created_us) FROM session WHERE org_id = :o",
        "user created": "SELECT max(created_us) FROM end_user WHERE org_id = :o",
        "audit event": "SELECT max(ts_us) FROM audit_event WHERE org_id = :o",
    }
    after_now = {
        what: value
        for what, sql in latest.items()
        if (value := rows(sqlite_engine, sql, o=org)[0][0]) is not None and value >= now
    }
    assert after_now == {}
    today = rows(sqlite_engine, "SELECT count(*) FROM trace WHERE org_id = :o AND start_us >= :d",
                 o=org, d=now - 9 * 3_600_000_000)  # fmt: skip
    assert today[0][0] > 0  # the morning so far still has runs


def test_a_period_that_has_not_begun_is_refused(sqlite_engine):
    midnight = (END - date(1970, 1, 1)).days * US_PER_DAY
    with pytest.raises(ValueError, match="has not begun yet"):
        generate_demo(sqlite_engine, days=1, traces=10, end=END, now_us=midnight + 60_000_000)


def test_feedback_on_a_minority_lower_on_failures_with_llm_judge_scores(demo):
    org = demo_id(demo)
    runs = rows(
        demo,
        "SELECT t.status, q.positive FROM trace t LEFT JOIN trace_quality q "
        "ON q.org_id = t.org_id AND q.trace_id = t.trace_id WHERE t.org_id = :o",
        o=org,
    )
    rated = [(status, positive) for status, positive in runs if positive is not None]
    assert 0.05 < len(rated) / len(runs) < 0.3  # a minority of runs is rated

    def positive_rate(statuses):
        chosen = [positive for status, positive in rated if status in statuses]
        return sum(chosen) / len(chosen)

    assert positive_rate({"error", "timeout"}) < positive_rate({"ok"}) - 0.2
    sources = dict(
        rows(demo, "SELECT source, count(*) FROM score WHERE org_id = :o GROUP BY 1", o=org)
    )
    assert sources["llm"] > 0 and sources["feedback"] > 0
    with demo.connect() as conn:
        from telemetry.ingest.scores import trace_quality_drift

        assert trace_quality_drift(conn, org) == []
