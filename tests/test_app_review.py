"""Rating a run in the trace view: who may, what is stored, and the Review page's queue."""

from __future__ import annotations

from sqlalchemy import select

from telemetry.models import AuditEvent, Score
from tests.app_support import build_two_teams, open_trace, signed_in_app

HOSTILE_COMMENT = "![x](https://tracker.example/p.png) **wrong** total"


def _scores(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(Score).order_by(Score.id)).mappings()]


def test_manager_rates_own_team_run_and_cannot_rate_another_team(app_env):
    ds = build_two_teams(app_env.engine, app_env.today)
    own = next(t["trace_id"] for t in ds.traces if t["trace_id"].startswith("a"))
    other = next(t["trace_id"] for t in ds.traces if t["trace_id"].startswith("b"))
    at = open_trace("mia", own)
    at.text_area(key=f"rate-comment-{own}").set_value(HOSTILE_COMMENT)
    at.button(key="rate-down").click().run()
    assert not at.exception
    (score,) = _scores(app_env.engine)
    assert (score["trace_id"], score["name"], score["label"]) == (own, "review", "down")
    assert (score["source"], score["author"], score["comment"]) == ("human", "mia", HOSTILE_COMMENT)
    # The table of scores shows the comment as plain text (a dataframe cell), not Markdown.
    table = at.dataframe[-1].value
    assert table["comment"].tolist() == [HOSTILE_COMMENT]
    assert all("tracker.example" not in m.value for m in at.markdown)
    with app_env.engine.connect() as conn:
        actions = conn.execute(select(AuditEvent.action, AuditEvent.actor)).all()
    assert ("score.review", "mia") in actions
    # Another team's run: not shown, so no rating form either.
    at = open_trace("mia", other)
    assert not [b for b in at.button if b.key == "rate-down"]


def test_review_page_queues_failed_runs_and_moves_on_after_a_rating(app_env):
    ds = build_two_teams(app_env.engine, app_env.today)
    at = signed_in_app("root")
    at.run()
    at.switch_page("../pages/review.py").run()
    assert not at.exception, at.exception
    queue = at.dataframe[0].value
    failed = {t["trace_id"] for t in ds.traces if t["status"] in ("error", "timeout")}
    assert failed and set(queue.loc[queue.reason == "failed", "name"]) <= {
        t["name"] for t in ds.traces if t["trace_id"] in failed
    }
    assert "1 of" in at.markdown[0].value
    at.button(key="review-up").click().run()
    assert not at.exception, at.exception
    assert len(_scores(app_env.engine)) == 1
    assert "2 of" in at.markdown[0].value and "1 rated" in at.markdown[0].value
    at.button(key="review-previous").click().run()
    assert "1 of" in at.markdown[0].value


def test_billing_shows_cost_per_good_run_by_model_when_asked(app_env):
    ds = build_two_teams(app_env.engine, app_env.today)
    from telemetry.reviews import record_review

    rated = max((t for t in ds.traces if t["cost_usd"] > 0), key=lambda t: t["start_us"])
    record_review(app_env.engine, "default", rated["trace_id"], author="root", verdict="up")
    at = signed_in_app("root")
    at.run()
    at.switch_page("../pages/billing.py").run()
    at.toggle(key="billing-good-runs").set_value(True).run()
    assert not at.exception, at.exception
    frame = next(f.value for f in at.dataframe if "cost_per_good_run" in f.value.columns)
    assert frame["positive"].sum() == 1
    assert frame.loc[frame.positive == 1, "cost_per_good_run"].notna().all()
