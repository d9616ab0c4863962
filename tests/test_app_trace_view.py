"""The trace view per role: an admin sees the failing step and the content; a manager sees
the same metadata without any content, and nothing of another team's trace, even by its id.

The script under test is what the Traces page does with ``?trace=<id>``: the real
sidebar filters of the signed-in account (app.py's scoping), then ``show_trace``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from telemetry.models import CostSource, Observation, SpanStatus
from tests import app_support
from tests.app_support import (
    TEAM_A,
    TEAM_B_NAMES,
    all_text,
    build_two_teams,
    open_trace,
    shown,
    signed_in_app,
)
from tests.factories import Dataset, generation, root, tool
from ui.trace_step import CONTENT_NOTE

SECRET_PROMPT = "SECRET-PROMPT: refund order 4411 for Mrs Example"
SECRET_ARGUMENTS = "SECRET-ARGS: query=order 4411"
FAILED = "Failed at step 3 (execute_tool search): index unavailable"


@pytest.fixture
def traces(app_env) -> Dataset:
    """build_two_teams (b0 is bjorn's, team B) plus "a-fail" of team A, with content."""
    ds = build_two_teams(app_env.engine, app_env.today)
    start = datetime.combine(app_env.today, datetime.min.time()) + timedelta(hours=1)
    ds.trace(
        "a-fail",
        user="ana",
        agent="atlas-agent",
        start=start,
        spans=[
            root("refund-turn", seconds=10, status=SpanStatus.ERROR, status_message="gave up"),
            generation(
                "gpt-4o",
                span_id="g1",
                at=1,
                seconds=2,
                input_tokens=1000,
                output_tokens=200,
                cost_usd=0.01,
                cost_source=CostSource.PROVIDED,
                attributes={"gen_ai.request.temperature": 0.2},
            ),
            tool(
                "search",
                span_id="t1",
                at=3.5,
                seconds=1.5,
                status=SpanStatus.ERROR,
                error_type="ConnectionError",
                status_message="index unavailable",
            ),
        ],
    )
    with app_env.engine.begin() as conn:
        conn.execute(
            update(Observation)
            .where(Observation.span_id == "g1")
            .values(input_content=SECRET_PROMPT, output_content="SECRET-ANSWER: done")
        )
        conn.execute(
            update(Observation)
            .where(Observation.span_id == "t1")
            .values(input_content=SECRET_ARGUMENTS)
        )
    return ds


def steps_table(at: AppTest):
    return at.dataframe[0].value


def test_admin_sees_the_failing_step_and_why_at_the_top(traces):
    at = open_trace("root", "a-fail")
    assert shown(at.error[0].value) == FAILED
    assert steps_table(at)["Name"].tolist() == [
        "refund-turn",
        "\u2003\u2003chat gpt-4o",
        "\u2003\u2003execute_tool search",
    ]
    assert steps_table(at)["Error"].tolist() == ["gave up", "", "index unavailable"]
    # Usage only on the LLM call; the other steps' cells are empty, not "None".
    assert steps_table(at)["Tokens"].tolist() == ["", "1,200", ""]
    assert steps_table(at)["Cost (USD)"].tolist() == ["", "$0.0100", ""]
    # The step picker opens on the failing step.
    assert at.selectbox(key="trace_step_a-fail").value == 3


def test_admin_sees_content_of_the_chosen_step(traces):
    at = open_trace("root", "a-fail")
    assert SECRET_ARGUMENTS in all_text(at)
    at.selectbox(key="trace_step_a-fail").set_value(2).run()
    text = all_text(at)
    assert SECRET_PROMPT in text and CONTENT_NOTE not in text
    assert "temperature" in text  # request parameters
    assert "provided" in text  # cost source


def test_manager_sees_metadata_but_never_content(traces):
    at = open_trace("mia", "a-fail")
    assert shown(at.error[0].value) == FAILED
    assert CONTENT_NOTE in [c.value for c in at.caption]
    assert "SECRET" not in all_text(at)
    at.selectbox(key="trace_step_a-fail").set_value(2).run()
    text = all_text(at)
    assert "SECRET" not in text
    assert "gpt-4o" in text and "temperature" in text


def test_manager_deep_link_to_another_teams_trace_shows_not_found_and_no_data(traces):
    at = open_trace("mia", "b0")
    (warning,) = at.warning
    assert "No trace `b0` here" in warning.value
    assert not at.dataframe and not at.error
    text = all_text(at).lower()
    assert not [name for name in TEAM_B_NAMES if name in text]


def test_a_trace_id_that_does_not_exist_gets_the_same_answer(traces):
    assert open_trace("mia", "zz-missing").warning[0].value.startswith("No trace `zz-missing`")


def test_admin_opens_another_teams_trace(traces):
    at = open_trace("root", "b0")
    assert not at.warning
    assert "bjorn" in all_text(at)


def test_manager_opens_own_team_trace_outside_the_period(traces, app_env):
    ds = traces
    ds.trace("a-old", user="ana", start=datetime(2024, 1, 2, 12), spans=[root("old-run")])
    at = open_trace("mia", "a-old")
    assert not at.warning
    assert "old-run" in [shown(s.value) for s in at.subheader]
    assert TEAM_A in all_text(at)


def test_traces_page_deep_link_through_the_app(traces):
    at = signed_in_app("mia", query={"trace": "b0"}).run()
    at.switch_page("../pages/traces.py").run()
    assert not at.exception, at.exception
    text = all_text(at).lower()
    assert not [name for name in TEAM_B_NAMES if name in text]
    assert Path(app_support.APP).is_file()
