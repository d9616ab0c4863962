"""Hostile OTLP/HTTP requests against the real endpoint, on SQLite and PostgreSQL.

One server per backend for the module. Each kind of bad input (tests/hostile_otlp.py)
gets 400 when the body is unusable, else 200 with a partial success naming the
field at fault; the valid spans of the same request are stored exactly as sent
and the rollups stay equal to the stored rows. A seeded fuzz test then throws a
fixed number of random mutations of valid protobuf and JSON bodies at it.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceResponse,
)
from sqlalchemy import Engine, select

from telemetry.apikeys import create_key
from telemetry.db import init_store, make_engine
from telemetry.models import Observation, Trace
from tests.conftest import _fresh_postgres_engine
from tests.hostile_otlp import CASES, JSON, PROTOBUF, Case, Sample, _pb_request, json_body
from tests.ingest_support import otlp_request, post, rollup_drift_of, running_server

FUZZ_MUTATIONS = 300  # per backend, half protobuf and half JSON
_FIELDS = ("name", "kind", "input_tokens", "output_tokens", "start_us", "end_us")


@dataclass
class Served:
    engine: Engine
    url: str
    key: str

    def post(self, content_type: str, body: bytes) -> tuple[int, bytes]:
        headers = {"Content-Type": content_type, "Authorization": f"Bearer {self.key}"}
        status, _headers, answer = post(self.url, body, headers)
        return status, answer


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request, tmp_path_factory) -> Iterator[Served]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("hostile") / "telemetry.db"
        engine, drop = make_engine(f"sqlite:///{path}"), None
    else:
        engine, drop = _fresh_postgres_engine(request.getfixturevalue("postgres_admin_url"))
    init_store(engine)
    key, _info = create_key(engine, "default", "hostile")
    try:
        with running_server(engine) as url:
            yield Served(engine, f"{url}/v1/traces", key)
    finally:
        engine.dispose()
        if drop is not None:
            drop()


def stored_rows(engine: Engine, trace_ids: set[str]) -> dict[tuple[str, str], dict[str, Any]]:
    """(trace id, span id) -> the observation's checked columns, for the given traces."""
    columns = [getattr(Observation, name) for name in _FIELDS]
    query = (
        select(Trace.trace_id, Observation.span_id, *columns)
        .join(Trace, Trace.id == Observation.trace_pk)
        .where(Trace.trace_id.in_(sorted(trace_ids)))
    )
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return {(row["trace_id"], row["span_id"]): dict(row) for row in rows}


def assert_stored_exactly(engine: Engine, sample: Sample) -> None:
    stored = stored_rows(engine, sample.traces)
    assert set(stored) == set(sample.expected)
    for key, want in sample.expected.items():
        have = {name: stored[key][name] for name in want}
        assert have == want, key


def partial_success(content_type: str, answer: bytes) -> tuple[int, str]:
    response = ExportTraceServiceResponse()
    if content_type == PROTOBUF:
        response.ParseFromString(answer)
    else:
        json_format.Parse(answer, response)
    return response.partial_success.rejected_spans, response.partial_success.error_message


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.kind)
def test_hostile_input_is_refused_or_repaired_and_the_valid_spans_are_stored(
    served: Served, case: Case
):
    sample = Sample(base=(CASES.index(case) + 1) * 1_000)
    content_type, body = case.build(sample)
    status, answer = served.post(content_type, body)

    assert status == case.status, answer[:500]
    if status == 200:
        rejected, message = partial_success(content_type, answer)
        assert rejected == case.rejected, message
        assert case.mentions in message
    assert_stored_exactly(served.engine, sample)
    assert rollup_drift_of(served.engine) == []


# --- fuzz -------------------------------------------------------------------------------

_HOSTILE_VALUES = [
    None,
    "",
    "\x00",
    "\ud800",
    "x" * 5_000,
    2**63,
    -(2**63) - 1,
    -1,
    10**30,
    1e30,
    float("nan"),
    float("inf"),
    True,
    [],
    {},
    "18446744073709551615",
    [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
    {"stringValue": "\x00"},
    {"intValue": "9" * 30},
    {"doubleValue": "Infinity"},
    {"arrayValue": {"values": [{"kvlistValue": {"values": [{"key": 1}]}}]}},
]


def _containers(value: Any, out: list) -> list:
    if isinstance(value, dict):
        out.append(value)
        for item in value.values():
            _containers(item, out)
    elif isinstance(value, list):
        out.append(value)
        for item in value:
            _containers(item, out)
    return out


def _mutate_json(rng: random.Random, document: dict) -> None:
    """Replace, delete or wrap a random value somewhere in ``document``."""
    container = rng.choice(_containers(document, []))
    if not container:
        return
    key = (
        rng.choice(list(container))
        if isinstance(container, dict)
        else rng.randrange(len(container))
    )
    action = rng.random()
    if action < 0.7:
        container[key] = rng.choice(_HOSTILE_VALUES)
    elif action < 0.85:
        del container[key]
    else:
        container[key] = [container[key]]


def _mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(data))
        action = rng.random()
        if action < 0.35:
            data[at] ^= 1 << rng.randrange(8)
        elif action < 0.55:
            data[at] = rng.choice((0x00, 0xFF, 0x80, 0x7F, rng.randrange(256)))
        elif action < 0.7:
            data[at:at] = rng.choice((b"\xff" * 10 + b"\x01", b"\x00", rng.randbytes(4)))
        elif action < 0.85:
            del data[at : at + rng.randint(1, 8)]
        else:
            data[at:at] = data[at : at + rng.randint(1, 16)]
    return bytes(data)


def _fuzzed_request(rng: random.Random, sample: Sample, hostile: Sample) -> tuple[str, bytes]:
    """Valid spans (``sample``) then a mutated resource of ``hostile``'s spans."""
    if rng.random() < 0.5:
        valid = _pb_request(sample, None)
        spans = _pb_request(hostile, None)
        hostile.expected.clear()
        return PROTOBUF, valid + _mutate_bytes(rng, spans)
    valid = json.loads(json_body([sample.valid(), sample.valid()]))["resourceSpans"][0]
    other = otlp_request([hostile.span(), hostile.span()])["resourceSpans"][0]
    if rng.random() < 0.7:
        for _ in range(rng.randint(1, 3)):
            _mutate_json(rng, other)
        tail = json.dumps(other).encode()
    else:
        tail = _mutate_bytes(rng, json.dumps(other).encode())
    return JSON, b'{"resourceSpans": [' + json.dumps(valid).encode() + b", " + tail + b"]}"


def test_fuzzed_requests_never_fail_the_server_nor_the_valid_spans(served: Served):
    rng = random.Random(20261205)
    for number in range(FUZZ_MUTATIONS):
        sample = Sample(base=rng.getrandbits(100) << 20)
        hostile = Sample(base=rng.getrandbits(100) << 20)
        content_type, body = _fuzzed_request(rng, sample, hostile)
        status, answer = served.post(content_type, body)

        assert status in (200, 400), (number, body, answer[:500])
        if status == 400:
            assert stored_rows(served.engine, sample.traces) == {}, number
        else:
            assert_stored_exactly(served.engine, sample)

    after = Sample(base=1)
    assert served.post(JSON, json_body([after.valid()]))[0] == 200
    assert_stored_exactly(served.engine, after)
    assert rollup_drift_of(served.engine) == []
