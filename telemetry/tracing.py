"""``telemetry.capture`` and ``telemetry.configure``: telemetry from apps with no instrumentation.

A thin layer on the OpenTelemetry SDK::

    import telemetry
    telemetry.configure("http://localhost:8501", api_key="tk_...", service_name="support-bot")
    answer = telemetry.capture("support-turn", lambda: bot.reply(question),
                               user_id="u-42", session_id=conversation_id)

``capture`` runs the function inside a new root span (one trace per call) carrying
the user, session, team and agent attributes the dashboard maps, records an
exception (type and message) and marks the span as failed before re-raising it.
Any OpenTelemetry instrumentation (OpenAI, Anthropic, LangChain...) active during
the call adds its spans to the same trace.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode

T = TypeVar("T")
TRACES_PATH = "/v1/traces"
_configured: TracerProvider | None = None
_endpoint: tuple[str, str] | None = None  # (address, key) given to configure, for telemetry.score


def configured_endpoint() -> str:
    return _endpoint[0] if _endpoint else ""


def configured_api_key() -> str:
    return _endpoint[1] if _endpoint else ""


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL of a dashboard address (``/v1/traces`` added if missing)."""
    url = endpoint.rstrip("/")
    return url if url.endswith(TRACES_PATH) else url + TRACES_PATH


def configure(
    endpoint: str,
    api_key: str,
    service_name: str = "app",
    *,
    environment: str | None = None,
    set_global: bool = True,
) -> TracerProvider:
    """Send this process's spans to the dashboard at ``endpoint`` with ``api_key``.

    Returns the tracer provider (call its ``shutdown()`` before exit to flush).
    With ``set_global`` it also becomes OpenTelemetry's global provider, so other
    instrumentation exports through it (the global can be set only once per process).
    """
    global _configured, _endpoint
    _endpoint = (endpoint, api_key)
    attributes = {"service.name": service_name}
    if environment:
        attributes["deployment.environment.name"] = environment
    exporter = OTLPSpanExporter(
        endpoint=traces_url(endpoint), headers={"Authorization": f"Bearer {api_key}"}
    )
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    if set_global:
        trace.set_tracer_provider(provider)
    _configured = provider
    return provider


def capture(
    name: str,
    fn: Callable[[], T],
    *,
    user_id: str | None = None,
    user_email: str | None = None,
    user_name: str | None = None,
    session_id: str | None = None,
    team: str | None = None,
    agent: str | None = None,
    attributes: Mapping[str, Any] | None = None,
    tracer_provider: trace.TracerProvider | None = None,
) -> T:
    """Run ``fn()`` inside a new root span named ``name``; return its result.

    An exception is recorded on the span (``error.type`` = its class name, status
    ERROR with its message) and raised again. The provider is ``tracer_provider``,
    else the one :func:`configure` made, else OpenTelemetry's global one.
    """
    provider = tracer_provider or _configured or trace.get_tracer_provider()
    tracer = provider.get_tracer("telemetry.capture")
    span_attributes = dict(attributes or {})
    for key, value in (
        ("enduser.id", user_id),
        ("user.email", user_email),
        ("user.name", user_name),
        ("gen_ai.conversation.id", session_id),
        ("team.name", team),
        ("gen_ai.agent.name", agent),
    ):
        if value:
            span_attributes[key] = value
    if agent:
        span_attributes.setdefault("gen_ai.operation.name", "invoke_agent")
    with tracer.start_as_current_span(
        name,
        context=otel_context.Context(),  # an empty context: always a new trace
        attributes=span_attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            result = fn()
        except BaseException as error:
            span.record_exception(error)
            span.set_attribute("error.type", type(error).__qualname__)
            span.set_status(Status(StatusCode.ERROR, str(error)))
            raise
        span.set_status(Status(StatusCode.OK))
        return result
