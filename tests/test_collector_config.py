"""docs/otel-collector.yaml forwards to the dashboard as the dashboard expects.

The collector itself cannot be downloaded here, so this reads its exporter
settings the way the collector's ``otlphttp`` exporter applies them (endpoint +
``/v1/traces``, protobuf, gzip, the configured headers) and sends one request
built from them to the real ingest route.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import yaml
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from telemetry.apikeys import create_key
from telemetry.ingest.http import TRACES_PATH
from telemetry.ingest.limits import Limits
from tests.ingest_support import counts, otlp_request, otlp_span, post, running_server
from tests.test_otlp_http import protobuf_body

CONFIG = Path(__file__).resolve().parent.parent / "docs" / "otel-collector.yaml"


def resolved(text: str, env: dict[str, str]) -> dict:
    """The configuration with ``${env:NAME}`` replaced, as the collector does at start."""
    return yaml.safe_load(re.sub(r"\$\{env:(\w+)\}", lambda m: env[m.group(1)], text))


def telemetry_exporter(config: dict) -> dict:
    (name,) = [name for name in config["exporters"] if name.split("/")[0] == "otlphttp"]
    assert name in config["service"]["pipelines"]["traces"]["exporters"]
    return config["exporters"][name]


def test_collector_exporter_settings_are_accepted_by_the_endpoint(engine):
    key, _info = create_key(engine, "default", name="collector")
    with running_server(engine) as base:
        config = resolved(CONFIG.read_text(), {"TELEMETRY_URL": base, "TELEMETRY_API_KEY": key})
        exporter = telemetry_exporter(config)
        url = exporter.get("traces_endpoint") or exporter["endpoint"].rstrip("/") + TRACES_PATH
        assert url == base + TRACES_PATH
        assert exporter.get("encoding", "proto") == "proto"
        body = protobuf_body(otlp_request([otlp_span(1, 1, name="from-the-collector")]))
        headers = {"Content-Type": "application/x-protobuf", **exporter.get("headers", {})}
        if exporter.get("compression", "gzip") == "gzip":
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        status, _headers, answer = post(url, body, headers)
    assert status == 200, answer
    response = ExportTraceServiceResponse.FromString(answer)
    assert not response.HasField("partial_success")
    assert counts(engine)["traces"] == 1


def test_collector_batches_fit_the_endpoint_limits():
    config = resolved(CONFIG.read_text(), {"TELEMETRY_URL": "http://x", "TELEMETRY_API_KEY": "k"})
    batch = config["processors"]["batch"]
    assert batch["send_batch_max_size"] <= Limits().max_spans_per_request
    assert batch["send_batch_size"] <= batch["send_batch_max_size"]
    assert config["service"]["pipelines"]["traces"]["processors"][-1] == "batch"


def test_collector_queue_persists_to_a_declared_storage_extension():
    config = resolved(CONFIG.read_text(), {"TELEMETRY_URL": "http://x", "TELEMETRY_API_KEY": "k"})
    queue = telemetry_exporter(config)["sending_queue"]
    assert queue["enabled"] and telemetry_exporter(config)["retry_on_failure"]["enabled"]
    assert queue["storage"] in config["extensions"]
    assert queue["storage"] in config["service"]["extensions"]
