"""Two server processes evaluating the same store: each change of state is notified exactly once."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from telemetry.alerts import channels as channel_store
from telemetry.alerts.access import cli_account
from telemetry.alerts.history import alert_history
from telemetry.alerts.rules import RuleSpec, save_rule
from telemetry.models import SpanStatus
from tests.alerts_servers import webhook_server
from tests.factories import Dataset, root
from tests.test_jobs import ROOT

ADMIN = cli_account("tester")


def test_two_processes_notify_each_state_change_exactly_once(engine):
    yesterday = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=1)
    ds = Dataset(engine)
    for index in range(2):
        ds.trace(f"t{index}", start=yesterday, spans=[root(status=SpanStatus.ERROR)])
    with webhook_server() as hook:
        channel = channel_store.add_channel(
            engine, ADMIN, "default", channel_store.parse_channel(f"webhook:{hook.url}")
        )
        for name, metric, threshold in (("errors", "error_rate", 0.5), ("busy", "runs", 3)):
            spec = RuleSpec(
                org="default",
                name=name,
                metric=metric,
                window="7d",
                threshold=threshold,
                channels=(channel,),
            )
            save_rule(engine, ADMIN, spec)
        url = engine.url.render_as_string(hide_password=False)
        command = [sys.executable, "-m", "tests.processes.alerts_runner", url, "7"]
        processes = [subprocess.Popen(command, cwd=ROOT) for _ in range(2)]
        time.sleep(3)  # "errors" has fired by now; two more runs make "busy" fire too
        for index in range(2, 4):
            ds.trace(f"t{index}", start=yesterday, spans=[root(status=SpanStatus.ERROR)])
        for process in processes:
            assert process.wait(timeout=90) == 0
    history = alert_history(engine, ADMIN, "default")
    assert sorted((entry.name, entry.state) for entry in history) == [
        ("busy", "ALERT"),
        ("errors", "ALERT"),
    ]
    sent = Counter(received.json["event_id"] for received in hook.received)
    assert sent == Counter({entry.event_id: 1 for entry in history})
