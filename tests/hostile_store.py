"""A store full of hostile text, sent through the real ingest paths, for the browser tests.

Every telemetry field that a page shows carries Markdown or HTML that would
fetch from an outside address, run script, format, link or turn into a formula
if anything rendered it: the user directory (CSV import), spans over OTLP/HTTP
with an API key, and a native JSONL file for what OTLP cannot carry (free-form
trace and span ids, audit events). Payloads that would run set ``window.__pwned``.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime

from tests.browser_support import ROOT, Server
from tests.ingest_support import attributes

EVIL = "evil.example"
FLAG = "window.__pwned=1"

TEAM = f"<b>Ops</b> :red[team] https://{EVIL}/team"
USER_ID = f"![u](https://tracker.{EVIL}/u.png)"
USER_NAME = f'<img src=x onerror="{FLAG}"> Mallory -> admin'
USER_EMAIL = f"mallory@{EVIL}"
COMPANY = f'<iframe src="https://{EVIL}/frame"></iframe>'
RTL_NAME = "Invoice \u202egnp.exe"
TRACE_NAME = f"![trace](https://tracker.{EVIL}/trace.png) **run** <script>{FLAG}</script>"
AGENT = f':blue-badge[agent] <img src=x onerror="{FLAG}"> ![a](https://tracker.{EVIL}/a.png)'
MODULE = f"<svg onload={FLAG}> $x^2$ :material/bolt:"
ENVIRONMENT = f":red[prod] www.{EVIL}"
SESSION = f"[session](javascript:{FLAG}) `tick` :smile:"
ERROR_TYPE = f"<style>*{{background:url(https://{EVIL}/css.png)}}</style>"
ROOT_ERROR = f"Run failed: ![e](https://tracker.{EVIL}/root.png) $$e$$"
TOOL_ERROR = f"Tool failed: ![err](https://tracker.{EVIL}/error.png) see https://{EVIL}/why"
STEP_NAME = f"# step [x](https://{EVIL}/step) ~~done~~"
TOOL = f"www.{EVIL}/tool :material/bolt:"
TOOL_TYPE = "<u>function</u> :streamlit:"
MODEL = f"![m](https://tracker.{EVIL}/model.png) gpt-evil"
PROVIDER = f'<img src=x onerror="{FLAG}"> provider'
LLM_STEP = f"chat <a href=https://{EVIL}/chat>chat</a>"
LONG_STEP = "L" * 600
ATTRIBUTE_KEY = f"<img src=x onerror={FLAG}>"
ATTRIBUTE_VALUE = f"![k](https://tracker.{EVIL}/attr.png)"
CONTENT = f"<script>{FLAG}</script> ![c](https://tracker.{EVIL}/content.png)"
EVENT_NAME = "exception \x07 bell"
RUNNING_NAME = f"live ![r](https://tracker.{EVIL}/live.png)"
# Free-form ids (native JSONL only: OTLP ids are hex).
HOSTILE_TRACE_ID = f'<img src=x onerror="{FLAG}">'
HOSTILE_SPAN_ID = f"[s](javascript:{FLAG})"
JSONL_TRACE_NAME = f"jsonl <svg onload={FLAG}>"
AUDIT_ACTION = ":red[price.set] ![a](https://tracker.evil.example/x.png)"
AUDIT_TARGET = f"![t](https://tracker.{EVIL}/target.png)"
# Cells a spreadsheet would run (OWASP CSV injection).
FORMULAS = (
    f'=HYPERLINK("https://{EVIL}","click")',
    "@SUM(1+1)",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
)
FORMULA_USER = FORMULAS[2]
RULE_NAME = f":red[rule] ![r](https://tracker.{EVIL}/rule.png) <b>hot</b>"
MANAGER = "boss"
MANAGER_PASSWORD = "Velvet-harbour-tangerine-42"

HOUR_NS = 3_600 * 1_000_000_000


def cli(server: Server, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "telemetry", *args],
        cwd=ROOT,
        env=server.env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def seed(server: Server) -> None:
    """The hostile store: directory, OTLP/HTTP spans, JSONL, a manager of the hostile team."""
    now_ns = time.time_ns()
    directory = server.home / "directory.csv"
    with directory.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "email", "company", "team", "status"])
        writer.writerow([USER_ID, USER_NAME, USER_EMAIL, COMPANY, TEAM, "active"])
        writer.writerow([FORMULA_USER, FORMULAS[0], FORMULAS[1], FORMULAS[3], TEAM, "active"])
        writer.writerow(["rtl-user", RTL_NAME, "", "", TEAM, "active"])
    cli(server, "ingest", str(directory), "--org", "default")
    key = re.search(r"^(tk_\S+)$", cli(server, "keys", "create", "--org", "default"), re.M)[1]
    _post_otlp(server, key, _otlp_body(now_ns))
    jsonl = server.home / "hostile.jsonl"
    jsonl.write_text("".join(json.dumps(line) + "\n" for line in _jsonl_lines(now_ns)))
    cli(server, "ingest", str(jsonl), "--org", "default")
    cli(
        server,
        *("users", "add", MANAGER, "--role", "manager", "--team", TEAM, "--org", "default"),
        "--password-stdin",
        stdin=MANAGER_PASSWORD + "\n",
    )
    # A rule of the hostile team, one alert per agent, firing now: the Overview's banner
    # names the rule and the agents.
    cli(
        server,
        *("alerts", "add", "--org", "default", "--name", RULE_NAME, "--team", TEAM),
        *("--metric", "runs", "--window", "24h", "--above", "0", "--each", "agent"),
    )
    cli(server, "alerts", "run-once")


def _post_otlp(server: Server, key: str, body: dict) -> None:
    request = urllib.request.Request(
        f"{server.url}/v1/traces",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        reply = json.loads(answer.read() or b"{}")
    assert not reply.get("partialSuccess", {}).get("rejectedSpans"), reply


def _span(trace: int, span: int, name: str, start_ns: int, end_ns: int | None, **fields) -> dict:
    body = {
        "traceId": f"{trace:032x}",
        "spanId": f"{span:016x}",
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(start_ns),
        "attributes": attributes(fields.get("attrs", {})),
        "status": fields.get("status", {"code": 1}),
    }
    if fields.get("parent"):
        body["parentSpanId"] = f"{fields['parent']:016x}"
    if end_ns is not None:
        body["endTimeUnixNano"] = str(end_ns)
    if fields.get("events"):
        body["events"] = fields["events"]
    return body


def _resource(spans: list[dict], module: str, environment: str) -> dict:
    resource = {"service.name": module, "deployment.environment.name": environment}
    return {
        "resource": {"attributes": attributes(resource)},
        "scopeSpans": [{"scope": {"name": "hostile"}, "spans": spans}],
    }


def _otlp_body(now_ns: int) -> dict:
    start = now_ns - 2 * HOUR_NS
    second = 1_000_000_000
    who = {
        "enduser.id": USER_ID,
        "gen_ai.conversation.id": SESSION,
        "gen_ai.agent.name": AGENT,
    }
    failed_run = [
        _span(
            0xA1,
            1,
            TRACE_NAME,
            start,
            start + 30 * second,
            attrs={**who, "error.type": ERROR_TYPE},
            status={"code": 2, "message": ROOT_ERROR},
        ),
        _span(
            0xA1,
            2,
            LLM_STEP,
            start + second,
            start + 5 * second,
            parent=1,
            attrs={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": MODEL,
                "gen_ai.provider.name": PROVIDER,
                "gen_ai.usage.input_tokens": 1200,
                "gen_ai.usage.output_tokens": 80,
                "gen_ai.input.messages": CONTENT,
                "gen_ai.output.messages": CONTENT,
            },
        ),
        _span(
            0xA1,
            3,
            STEP_NAME,
            start + 6 * second,
            start + 8 * second,
            parent=1,
            attrs={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": TOOL,
                "gen_ai.tool.type": TOOL_TYPE,
                "error.type": ERROR_TYPE,
                ATTRIBUTE_KEY: ATTRIBUTE_VALUE,
            },
            status={"code": 2, "message": TOOL_ERROR},
            events=[
                {
                    "name": EVENT_NAME,
                    "timeUnixNano": str(start + 7 * second),
                    "attributes": attributes({"exception.message": TOOL_ERROR}),
                }
            ],
        ),
        _span(
            0xA1,
            4,
            LONG_STEP,
            start + 9 * second,
            start + 10 * second,
            parent=1,
            attrs={"gen_ai.operation.name": "invoke_agent"},
        ),
    ]
    running = [
        _span(0xA2, 1, RUNNING_NAME, now_ns - 300 * second, None, attrs=who),
        _span(0xA2, 2, STEP_NAME, now_ns - 290 * second, now_ns - 280 * second, parent=1),
    ]
    resources = [_resource(failed_run + running, MODULE, ENVIRONMENT)]
    for number, formula in enumerate(FORMULAS):
        trace = 0xB0 + number
        begin = start + (number + 1) * 60 * second
        spans = [
            _span(
                trace,
                1,
                formula,
                begin,
                begin + 20 * second,
                attrs={
                    "enduser.id": FORMULA_USER if number == 0 else formula,
                    "gen_ai.conversation.id": formula,
                    "gen_ai.agent.name": formula,
                    "task.outcome": "clean",
                    "code.lines_added": 3,
                },
            ),
            _span(
                trace,
                2,
                formula,
                begin + second,
                begin + 2 * second,
                parent=1,
                attrs={
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": formula,
                    "gen_ai.provider.name": formula,
                    "gen_ai.usage.input_tokens": 10,
                    "gen_ai.usage.output_tokens": 5,
                },
            ),
            _span(
                trace,
                3,
                formula,
                begin + 3 * second,
                begin + 4 * second,
                parent=1,
                attrs={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": formula},
            ),
        ]
        resources.append(_resource(spans, formula, "production"))
    return {"resourceSpans": resources}


def _jsonl_lines(now_ns: int) -> list[dict]:
    def at(hours_ago: float) -> str:
        moment = datetime.fromtimestamp(now_ns / 1e9 - hours_ago * 3600, UTC)
        return moment.isoformat().replace("+00:00", "Z")

    return [
        {
            "type": "trace",
            "id": HOSTILE_TRACE_ID,
            "span_id": HOSTILE_SPAN_ID,
            "name": JSONL_TRACE_NAME,
            "start": at(3),
            "end": at(2.9),
            "status": "error",
            "error_type": ERROR_TYPE,
            "error_message": ROOT_ERROR,
            "user": USER_ID,
            "session": SESSION,
            "agent": AGENT,
            "module": MODULE,
            "environment": ENVIRONMENT,
        },
        {
            "type": "observation",
            "trace_id": HOSTILE_TRACE_ID,
            "id": "tool-1",
            "parent_id": HOSTILE_SPAN_ID,
            "kind": "tool",
            "name": STEP_NAME,
            "tool_name": TOOL,
            "start": at(2.95),
            "end": at(2.94),
            "status": "error",
            "status_message": TOOL_ERROR,
        },
        {
            "type": "audit",
            "ts": at(1),
            "actor": USER_ID,
            "action": AUDIT_ACTION,
            "target": AUDIT_TARGET,
            "details": {"note": CONTENT},
        },
        {
            "type": "audit",
            "ts": at(1),
            "actor": FORMULAS[0],
            "action": "report.export",
            "target": FORMULAS[1],
            "details": {"note": FORMULAS[2]},
        },
    ]
