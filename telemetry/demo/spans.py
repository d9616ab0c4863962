"""Build one demo trace: its observation rows, shaped as ingestion would store them.

A trace is a root agent span (the command) over LLM calls and tool calls. Its
fate (ok, error, timeout, running) is chosen by the caller; tokens come from the
real-traffic shapes, cache hits from the session's history, costs from the Pricer.
"""

from __future__ import annotations

import math
import random
from typing import Any

from telemetry.demo.catalog import Agent, Command, Model, Tool
from telemetry.demo.plan import DemoSession, weighted
from telemetry.demo.shapes import TokenShapes
from telemetry.demo.storage import column_defaults
from telemetry.models import Observation, ObservationKind, SpanStatus
from telemetry.pricing import Pricer, TokenUsage
from telemetry.timeutil import US_PER_DAY, US_PER_HOUR, US_PER_SECOND, month_of_us

MAX_PROMPT_TOKENS = 150_000  # agents trim their history beyond this
CACHE_TTL_US = {"openai": 600, "anthropic": 300, "google": 1800}
MIN_CACHED_PREFIX = 1024
OUTCOMES = (("clean", 0.68), ("revised", 0.24), ("regression", 0.08))
# Plain strings: enum attribute lookups add up over millions of spans.
_UNSET, _OK, _ERROR = SpanStatus.UNSET.value, SpanStatus.OK.value, SpanStatus.ERROR.value
_AGENT, _TOOL = ObservationKind.AGENT.value, ObservationKind.TOOL.value
_GENERATION, _EMBEDDING = ObservationKind.GENERATION.value, ObservationKind.EMBEDDING.value
_PROVIDER_ERRORS = (
    ("RateLimitError", "429: rate limit reached for {model}"),
    ("APIConnectionError", "connection reset while calling {model}"),
    ("ContextWindowExceededError", "prompt too long for {model}"),
)
# Every observation column, so rows can be written as value lists; a column added to
# the schema later gets its table default.
_OBSERVATION_DEFAULTS: dict[str, Any] = {
    **column_defaults(Observation.__table__),
    "status": _UNSET,
    "attributes": {},  # a dict until written: summarize_trace reads it without parsing
}


def _between(rng: random.Random, low: int, high: int) -> int:
    """Like ``rng.randint`` (inclusive), several times faster."""
    return low + int(rng.random() * (high - low + 1))


def _lognormal(rng: random.Random, mu: float, sigma: float) -> float:
    return math.exp(rng.gauss(mu, sigma))


class TraceBuilder:
    """Turns (session, start, fate) into observation dicts; one instance per generation run."""

    def __init__(self, rng: random.Random, shapes: TokenShapes, pricer: Pricer, org: int) -> None:
        self.rng = rng
        self.shapes = shapes
        self.pricer = pricer
        self.org = org
        self._months: dict[int, int] = {}  # day number -> month bucket

    def span_id(self) -> str:
        return f"{self.rng.getrandbits(64):016x}"

    def build(self, session: DemoSession, start_us: int, fate: str) -> tuple[str, list[dict]]:
        """The trace id and the observation dicts of one trace (the root first)."""
        rng = self.rng
        agent = session.agent
        command = weighted(rng, agent.weighted_commands)
        model = weighted(rng, command.models or agent.models)
        trace_id = f"{rng.getrandbits(128):032x}"
        shared = {
            **_OBSERVATION_DEFAULTS,
            "org_id": self.org,
            "user_id": session.user.id,
            "team_id": session.user.team_id,
            "session_id": session.id,
            "environment": session.environment,
            "module": agent.module,
            "agent": agent.name,
        }
        root = self._span(shared, self.span_id(), "", command.name, start_us)
        root.update(kind=_AGENT, operation="invoke_agent")
        children, fate, cursor = self._run_steps(session, shared, root, command, model, fate)
        self._finish_root(session, root, children, command, fate, cursor)
        return trace_id, [root, *children]

    def _span(self, shared: dict, span_id: str, parent: str, name: str, start_us: int) -> dict:
        span = dict(shared)
        day = start_us // US_PER_DAY
        month = self._months.get(day)
        if month is None:
            month = self._months[day] = month_of_us(start_us)
        span.update(
            span_id=span_id,
            parent_span_id=parent,
            name=name,
            start_us=start_us,
            start_day=day,
            start_hour=start_us // US_PER_HOUR,
            start_month=month,
        )
        return span

    @staticmethod
    def _end(span: dict, end_us: int) -> None:
        span["end_us"] = end_us
        span["duration_ms"] = (end_us - span["start_us"]) / 1000

    def _steps(self, agent: Agent, command: Command, model: Model) -> list[Model | Tool]:
        rng = self.rng
        steps: list[Model | Tool] = []
        if agent.embedding is not None:
            steps.append(agent.embedding)
            steps.extend(weighted(rng, agent.tools) for _ in range(1 + (rng.random() < 0.3)))
        steps.append(model)
        if command.uses_tools and agent.embedding is None:
            keep_going = agent.tool_rounds / (1 + agent.tool_rounds)
            rounds = 0
            while rounds < 8 and rng.random() < keep_going:
                rounds += 1
                steps.extend((weighted(rng, agent.tools), model))
        return steps

    def _run_steps(
        self, session: DemoSession, shared: dict, root: dict, command, model, fate: str
    ) -> tuple[list[dict], str, int]:
        """The child spans, the trace's actual fate (a slow run times out) and its last moment."""
        rng = self.rng
        agent = session.agent
        steps = self._steps(agent, command, model)
        deadline_us = root["start_us"] + agent.deadline_s * US_PER_SECOND
        stop_at = rng.randrange(len(steps)) if fate != "ok" else len(steps)
        children: list[dict] = []
        cursor = root["start_us"] + _between(rng, 200, 3000)
        carried = session.history_tokens
        for index, step in enumerate(steps):
            if fate == "running" and index == stop_at:
                break  # that span is still in progress, so not exported yet
            span = self._span(shared, self.span_id(), root["span_id"], "", cursor)
            calls_tool_next = index + 1 < len(steps) and isinstance(steps[index + 1], Tool)
            if isinstance(step, Tool):
                self._tool(span, step, fails=index != stop_at)
                carried += _between(rng, 40, 1200)  # the tool result joins the prompt
            else:
                carried = self._llm_call(session, span, step, carried, calls_tool_next)
            children.append(span)
            cursor = span["end_us"] + _between(rng, 1_000, 40_000)
            overran = cursor > deadline_us and fate != "running"
            if overran or (index == stop_at and fate == "timeout"):
                self._time_out(span, deadline_us, step)
                return children, "timeout", cursor
            if index == stop_at and fate == "error":
                self._fail(span, step)
                return children, "error", cursor
        return children, fate, cursor

    def _tool(self, span: dict, tool: Tool, fails: bool) -> None:
        rng = self.rng
        span.update(
            name=f"execute_tool {tool.name}",
            kind=_TOOL,
            operation="execute_tool",
            tool_name=tool.name,
            tool_type=tool.tool_type,
            input_content=tool.argument,
        )
        if tool.tool_type == "mcp":
            span["attributes"] = {"mcp.method.name": "tools/call"}
        duration_ms = tool.median_ms * _lognormal(rng, 0, 0.7)
        self._end(span, span["start_us"] + int(duration_ms * 1000) + 1)
        if fails and rng.random() < tool.failure_rate:
            # The agent reads the error and carries on: a tool error inside a trace.
            span.update(
                status=_ERROR,
                error_type=tool.error_type,
                status_message=tool.error_message,
            )

    def _llm_call(
        self, session: DemoSession, span: dict, model: Model, carried: int, calls_tool: bool
    ) -> int:
        """Fill a generation or embedding span; return the prompt carried into the next call."""
        rng = self.rng
        shape = session.agent.shape
        if model.embedding:
            usage = TokenUsage(input=max(4, self.shapes.prompt(rng, "conv") // 8))
            kind, operation, reasoning = _EMBEDDING, "embeddings", 0
            duration_ms = model.ttft_ms * _lognormal(rng, 0, 0.4)
        else:
            new = self.shapes.prompt(rng, shape)
            prompt = min(carried + new, MAX_PROMPT_TOKENS)
            # What a cache can hold: the history and system prompt, never the new message.
            prefix = min(carried + min(session.agent.system_tokens, new), prompt - new // 4 - 1)
            read, write = self._cache(session, model, span["start_us"], prompt, prefix)
            output = self.shapes.answer(rng, shape)
            if calls_tool:
                output = max(8, output // 4) + 20  # a tool call is a short JSON answer
            usage = TokenUsage(input=prompt, output=output, cache_read=read, cache_write=write)
            reasoning = round(output * rng.uniform(0.2, 0.6)) if model.reasoning else 0
            kind, operation = _GENERATION, "chat"
            duration_ms = model.ttft_ms * _lognormal(rng, 0, 0.35) + prompt / 40
            duration_ms += output / model.tokens_per_s * 1000
            carried = prompt + output
        cost, source = self.pricer.price(
            provider=model.provider, model=model.name, usage=usage, when_us=span["start_us"]
        )
        span.update(
            name=f"{operation} {model.name}",
            kind=kind,
            operation=operation,
            model=model.name,
            provider=model.provider,
            input_tokens=usage.input,
            output_tokens=usage.output,
            cache_read_tokens=usage.cache_read,
            cache_write_tokens=usage.cache_write,
            reasoning_tokens=reasoning,
            cost_usd=cost,
            cost_source=source.value,
        )
        self._end(span, span["start_us"] + int(duration_ms * 1000) + 1)
        session.last_call_us = span["end_us"]
        return carried

    def _cache(
        self, session: DemoSession, model: Model, start_us: int, prompt: int, prefix: int
    ) -> tuple[int, int]:
        """(cache read, cache write) tokens: both are part of the prompt, never on top."""
        ttl_s = CACHE_TTL_US.get(model.cache)
        last = session.last_call_us
        warm = ttl_s is not None and last is not None and start_us - last < ttl_s * US_PER_SECOND
        if model.cache == "anthropic":
            if warm and prefix >= MIN_CACHED_PREFIX:
                return prefix, prompt - prefix
            return 0, prompt if prompt >= MIN_CACHED_PREFIX else 0
        if not warm or prefix < MIN_CACHED_PREFIX:
            return 0, 0
        block = 128 if model.cache == "openai" else 256
        return prefix // block * block, 0

    def _fail(self, span: dict, step: Model | Tool) -> None:
        if isinstance(step, Tool):
            error_type, message = "ToolExecutionError", f"{step.name}: {step.error_message}"
        else:
            error_type, template = self.rng.choice(_PROVIDER_ERRORS)
            message = template.format(model=step.name)
            self._no_usage(span, step)
        span.update(status=_ERROR, error_type=error_type, status_message=message)

    def _time_out(self, span: dict, deadline_us: int, step: Model | Tool) -> None:
        self._end(span, max(deadline_us - 1000, span["start_us"] + 1))
        span.update(
            status=_ERROR,
            error_type="TimeoutError",
            status_message="cancelled at the run deadline",
        )
        if isinstance(step, Model):
            self._no_usage(span, step)

    def _no_usage(self, span: dict, model: Model) -> None:
        """A call that failed reports no usage; it is priced like any other (at zero)."""
        cost, source = self.pricer.price(
            provider=model.provider, model=model.name, usage=TokenUsage(), when_us=span["start_us"]
        )
        span.update(
            input_tokens=0,
            output_tokens=0,
            cache_read_tokens=0,
            cache_write_tokens=0,
            reasoning_tokens=0,
            cost_usd=cost,
            cost_source=source.value,
        )

    def _finish_root(
        self, session: DemoSession, root: dict, children: list[dict], command, fate, cursor
    ) -> None:
        rng = self.rng
        agent = session.agent
        root["input_content"] = rng.choice(agent.prompts)
        calls = [c for c in children if c["kind"] == _GENERATION and c["input_tokens"]]
        if calls:
            session.history_tokens = calls[-1]["input_tokens"] + calls[-1]["output_tokens"]
        if fate == "running":
            root["end_us"] = root["duration_ms"] = None
            return
        if fate == "timeout":
            self._end(root, root["start_us"] + agent.deadline_s * US_PER_SECOND)
            root.update(
                status=_ERROR,
                error_type="timeout",
                status_message=f"agent run exceeded its {agent.deadline_s} s deadline",
            )
            return
        self._end(root, cursor + _between(rng, 500, 5000))
        if fate == "error":
            failed = children[-1]
            root.update(
                status=_ERROR,
                error_type=failed["error_type"],
                status_message=failed["status_message"],
            )
            return
        root.update(status=_OK, output_content=rng.choice(agent.answers))
        if agent.writes_code:
            root["attributes"] = self._code_change(command)

    def _code_change(self, command: Command) -> dict:
        rng = self.rng
        if not command.uses_tools:  # an inline completion: a few lines, no task outcome
            added, removed = _between(rng, 1, 12), _between(rng, 0, 3)
            return {"code.lines_added": added, "code.lines_removed": removed}
        added = max(1, round(_lognormal(rng, math.log(30), 0.9)))
        return {
            "code.lines_added": added,
            "code.lines_removed": round(added * rng.uniform(0.05, 0.7)),
            "task.outcome": weighted(rng, OUTCOMES),
        }
