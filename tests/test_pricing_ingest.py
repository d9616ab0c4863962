"""Cost of ingested LLM calls: provided, the organization's own price, the catalog, unpriced.

Expected costs are computed by hand from the providers' published prices per
million tokens (claude-3-5-sonnet: $3 input, $15 output, $0.30 cache read, $3.75
cache write; gpt-4o: $2.50 input, $10 output, $1.25 cached input; o3: $10/$40
until 2025-06-09 and $2/$8 from 2025-06-10).
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from telemetry.apikeys import create_key
from telemetry.cli import main
from telemetry.db import DATABASE_URL_ENV
from telemetry.ingest.files import import_files
from telemetry.models import AuditEvent, Observation
from telemetry.pricing import Price
from telemetry.reprice import remove_model_price, set_model_price
from telemetry.store import data_version
from tests.ingest_support import (
    observation_rows,
    otlp_request,
    otlp_span,
    post,
    request_line,
    rollup_drift_of,
    running_server,
    span_hex,
    trace_row,
)

DAY_S = 86_400  # T0 is 2025-06-01 12:00 UTC
AUTH = {"Content-Type": "application/json"}


def generation(trace: int, span: int, model: str, provider: str, start_s: float = 0, **usage):
    names = {
        "input": "gen_ai.usage.input_tokens",
        "output": "gen_ai.usage.output_tokens",
        "cache_read": "gen_ai.usage.cache_read.input_tokens",
        "cache_write": "gen_ai.usage.cache_creation.input_tokens",
        "cost": "gen_ai.usage.cost",
    }
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": model,
        "gen_ai.provider.name": provider,
    }
    attrs.update({names[k]: v for k, v in usage.items()})
    return otlp_span(
        trace, span, name=f"chat {model}", start_s=start_s, end_s=start_s + 1, attrs=attrs
    )


def ingest(engine, tmp_path, *spans, name="spans.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(request_line([span]) for span in spans) + "\n")
    return import_files(engine, [path])


def cost_of(engine, trace: int, span: int) -> tuple[float, str]:
    row = observation_rows(engine, trace)[span_hex(span)]
    return row["cost_usd"], row["cost_source"]


def test_cached_tokens_priced_at_the_cache_rate_for_anthropic_and_openai(engine, tmp_path):
    ingest(
        engine,
        tmp_path,
        generation(
            1,
            1,
            "claude-3-5-sonnet",
            "anthropic",
            input=10_000,
            cache_read=6_000,
            cache_write=2_000,
            output=500,
        ),
        generation(2, 1, "gpt-4o", "openai", input=8_000, cache_read=4_000, output=1_000),
    )
    anthropic = (2_000 * 3 + 6_000 * 0.30 + 2_000 * 3.75 + 500 * 15) / 1_000_000
    openai = (4_000 * 2.50 + 4_000 * 1.25 + 1_000 * 10) / 1_000_000
    assert cost_of(engine, 1, 1) == (pytest.approx(anthropic), "catalog")
    assert cost_of(engine, 2, 1) == (pytest.approx(openai), "catalog")
    assert trace_row(engine, 1)["cost_usd"] == pytest.approx(anthropic)


def test_catalog_price_follows_the_date_of_the_call(engine, tmp_path):
    ingest(
        engine,
        tmp_path,
        generation(1, 1, "o3", "openai", start_s=0, input=1_000, output=100),  # 2025-06-01
        generation(2, 1, "o3", "openai", start_s=19 * DAY_S, input=1_000, output=100),  # 06-20
    )
    assert cost_of(engine, 1, 1) == (pytest.approx((1_000 * 10 + 100 * 40) / 1e6), "catalog")
    assert cost_of(engine, 2, 1) == (pytest.approx((1_000 * 2 + 100 * 8) / 1e6), "catalog")


def test_the_organizations_own_price_wins_over_the_catalog(engine, tmp_path):
    set_model_price(engine, "default", "GPT-4o", Price(input=1.0, output=2.0), actor="test")
    ingest(
        engine,
        tmp_path,
        generation(1, 1, "gpt-4o", "openai", input=1_000, cache_read=400, output=100),
    )
    # No cache rate of its own: cached tokens at the input rate.
    assert cost_of(engine, 1, 1) == (pytest.approx((1_000 * 1.0 + 100 * 2.0) / 1e6), "override")


def test_an_unknown_model_is_counted_as_unpriced(engine, tmp_path):
    ingest(engine, tmp_path, generation(1, 1, "acme-llm-9000", "acme", input=1_000, output=10))
    assert cost_of(engine, 1, 1) == (0.0, "unpriced")


def test_a_provided_cost_wins_over_every_price(engine, tmp_path):
    set_model_price(engine, "default", "gpt-4o", Price(input=1.0, output=2.0), actor="test")
    ingest(engine, tmp_path, generation(1, 1, "gpt-4o", "openai", input=1_000, output=10, cost=0.5))
    openinference = otlp_span(
        2,
        1,
        attrs={
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-4o",
            "llm.token_count.prompt": 10,
            "llm.cost.total": 0.25,
        },
    )
    ingest(engine, tmp_path, openinference, name="oi.jsonl")
    assert cost_of(engine, 1, 1) == (0.5, "provided")
    assert cost_of(engine, 2, 1) == (0.25, "provided")


def test_setting_a_price_with_reprice_updates_stored_calls_but_not_provided_costs(engine, tmp_path):
    ingest(
        engine,
        tmp_path,
        generation(1, 1, "gpt-4o", "openai", input=2_000, output=100),
        generation(1, 2, "gpt-4o", "openai", start_s=2, input=1_000, output=10, cost=0.5),
        generation(2, 1, "claude-3-5-sonnet", "anthropic", input=1_000, output=100),
    )
    catalog = (2_000 * 2.50 + 100 * 10) / 1e6
    assert cost_of(engine, 1, 1) == (pytest.approx(catalog), "catalog")
    version = data_version(engine, "default")

    repriced = set_model_price(
        engine, "default", "gpt-4o", Price(input=1.0, output=3.0), actor="alice"
    )
    own = (2_000 * 1.0 + 100 * 3.0) / 1e6
    assert repriced == 1
    assert cost_of(engine, 1, 1) == (pytest.approx(own), "override")
    assert cost_of(engine, 1, 2) == (0.5, "provided")
    assert trace_row(engine, 1)["cost_usd"] == pytest.approx(own + 0.5)
    other = (1_000 * 3 + 100 * 15) / 1e6
    assert cost_of(engine, 2, 1) == (pytest.approx(other), "catalog")
    assert data_version(engine, "default") > version

    assert remove_model_price(engine, "default", "gpt-4o", actor="alice") == 1
    assert cost_of(engine, 1, 1) == (pytest.approx(catalog), "catalog")
    assert trace_row(engine, 1)["cost_usd"] == pytest.approx(catalog + 0.5)
    assert rollup_drift_of(engine) == []
    with engine.connect() as conn:
        audits = conn.execute(
            select(AuditEvent.action, AuditEvent.actor, AuditEvent.target).order_by(AuditEvent.id)
        ).all()
    assert [tuple(a) for a in audits] == [
        ("price.set", "alice", "gpt-4o"),
        ("price.remove", "alice", "gpt-4o"),
    ]


def test_removing_a_price_the_organization_does_not_have_says_so(engine):
    with pytest.raises(LookupError, match="no own price"):
        remove_model_price(engine, "default", "gpt-4o")


def cli(engine, monkeypatch, capsys, *args) -> tuple[int, str]:
    monkeypatch.setenv(DATABASE_URL_ENV, engine.url.render_as_string(hide_password=False))
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_prices_cli_sets_lists_and_removes_with_reprice(engine, tmp_path, monkeypatch, capsys):
    ingest(engine, tmp_path, generation(1, 1, "gpt-4o", "openai", input=1_000, output=100))
    code, out = cli(
        engine, monkeypatch, capsys,
        "prices", "set", "gpt-4o", "--input", "4", "--output", "8", "--cache-read", "0.5",
        "--provider", "openai", "--reprice", "--actor", "bob",
    )  # fmt: skip
    assert code == 0 and "re-priced 1 stored calls" in out
    assert cost_of(engine, 1, 1) == (pytest.approx((1_000 * 4 + 100 * 8) / 1e6), "override")

    code, out = cli(engine, monkeypatch, capsys, "prices", "list")
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith("gpt-4o"))
    assert line.split()[:6] == ["gpt-4o", "openai", "4", "8", "0.5", "=input"]

    code, out = cli(engine, monkeypatch, capsys, "prices", "remove", "gpt-4o", "--reprice")
    assert code == 0
    assert cost_of(engine, 1, 1) == (pytest.approx((1_000 * 2.5 + 100 * 10) / 1e6), "catalog")
    code, out = cli(
        engine, monkeypatch, capsys, "prices", "set", "x", "--input", "-1", "--output", "1"
    )
    assert code == 2 and "cannot be negative" in out


def test_prices_of_one_organization_do_not_touch_another(engine, tmp_path, monkeypatch, capsys):
    assert cli(engine, monkeypatch, capsys, "orgs", "create", "acme")[0] == 0
    ingest(engine, tmp_path, generation(1, 1, "gpt-4o", "openai", input=1_000, output=100))
    set_model_price(engine, "acme", "gpt-4o", Price(input=100.0, output=100.0))
    assert cost_of(engine, 1, 1)[1] == "catalog"
    code, out = cli(engine, monkeypatch, capsys, "prices", "list", "--org", "default")
    assert code == 0 and "no own prices" in out


def test_a_reprice_racing_ingest_leaves_every_call_at_the_final_price(engine):
    """Prices are read under the organization's lock: no call keeps a price set before it.

    Four exporters keep sending 5 calls a request while another thread changes the
    model's price 15 times with --reprice, then stops; the exporters send a few more.
    A request priced its calls when it arrived: a price committed between then and
    the request's write (requests pile up while a re-price holds the lock) must
    still reach them.
    """
    key, _ = create_key(engine, "default", "race")
    headers = AUTH | {"Authorization": f"Bearer {key}"}
    repriced = threading.Event()
    set_prices: list[Price] = []
    traces = iter(range(1, 100_000))
    lock = threading.Lock()

    def reprice() -> None:
        for n in range(1, 16):
            time.sleep(0.02)  # let writers in: SQLite's lock is not handed out in turn
            price = Price(input=float(n), output=1.0)
            set_model_price(engine, "default", "acme-llm-1", price, reprice=True)
            set_prices.append(price)
        repriced.set()

    def exporter() -> int:
        sent = after = 0
        while after < 5:
            with lock:
                trace = next(traces)
            spans = [
                generation(trace, n, "acme-llm-1", "acme", n, input=1_000 * n, output=10)
                for n in range(1, 6)
            ]
            status, _, answer = post(
                url + "/v1/traces", json.dumps(otlp_request(spans)).encode(), headers
            )
            assert status == 200, answer
            sent += 1
            after += repriced.is_set()
        return sent

    with running_server(engine) as url:
        repricer = threading.Thread(target=reprice)
        with ThreadPoolExecutor(4) as pool:
            exporters = [pool.submit(exporter) for _ in range(4)]
            repricer.start()
            repricer.join()
            sent = sum(future.result() for future in exporters)
    final = set_prices[-1]
    with engine.connect() as conn:
        calls = conn.execute(
            select(Observation.input_tokens, Observation.output_tokens, Observation.cost_usd).where(
                Observation.model == "acme-llm-1"
            )
        ).all()
    assert len(calls) == 5 * sent
    stale = [
        (tokens_in, cost)
        for tokens_in, tokens_out, cost in calls
        if cost != pytest.approx((tokens_in * final.input + tokens_out * final.output) / 1e6)
    ]
    assert stale == []
    assert rollup_drift_of(engine) == []
