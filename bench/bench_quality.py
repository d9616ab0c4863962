"""Quality numbers and the review queue on a large store; scores posted over HTTP, per second.

Usage: .venv/bin/python bench/bench_quality.py [--traces 1000000] [--scores 200000]
       [--repeat 3] [--days 30 365] [--post 10000] [--batch 100]

1. Reuses (or builds once) the demo store of bench/common.py and gives it
   ``--scores`` scores if it has fewer (half user feedback on distinct runs, half
   LLM-judge relevance values), then prints the median time of each query of the
   Analytics Quality tab, the per-user and per-model tables (Users, Billing) and
   the review queue, for periods ending on the store's last day.
2. Starts the product's server as the README says, on a fresh SQLite store, and
   posts ``--post`` scores to ``POST /api/scores`` in requests of ``--batch``
   (and once more one score per request): scores per second.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select

from bench.common import BENCH_END, CACHE, bench_store, median_seconds, product_server
from telemetry.apikeys import create_key
from telemetry.db import init_store, make_engine
from telemetry.filters import Filters
from telemetry.ingest.scores import rebuild_trace_quality
from telemetry.models import Score, Trace
from telemetry.queries import quality, review
from telemetry.store import org_id
from ui.periods import automatic_grouping


def page_queries() -> dict[str, dict]:
    return {
        "Quality tab": {
            "quality_totals": quality.quality_totals,
            "quality_trend": quality.quality_trend,
            "quality_by(agent)": partial(quality.quality_by, dimension="agent"),
            "score_summary": quality.score_summary,
            "score_means_by(agent)": partial(quality.score_means_by, dimension="agent"),
        },
        "Users expander": {"quality_by(user)": partial(quality.quality_by, dimension="user")},
        "Billing tab": {"quality_by(model)": partial(quality.quality_by, dimension="model")},
        "Review queue": {
            "review_queue": partial(review.review_queue, limit=200, sample=50, seed=1)
        },
    }


def ensure_scores(engine, wanted: int) -> None:
    """Give the demo organization ``wanted`` scores (once): feedback and judge values."""
    with engine.begin() as conn:
        org = org_id(conn, "demo")
        have = conn.execute(select(func.count()).select_from(Score)).scalar()
        if have >= wanted:
            print(f"store: {have:,} scores")
            return
        print(f"adding {wanted:,} scores (once; reused after)")
        started = time.perf_counter()
        conn.execute(Score.__table__.delete().where(Score.org_id == org))
        ids = conn.execute(select(Trace.trace_id, Trace.end_us, Trace.start_us)).all()
        rng = random.Random(7)
        chosen = rng.sample(ids, min(len(ids), wanted // 2))
        rows = []
        for index, (trace_id, end_us, start_us) in enumerate(chosen):
            at = (end_us or start_us) + 60_000_000
            rows.append(_score(org, f"fb-{index}", trace_id, "user_feedback", None,
                               rng.choice(("up", "up", "down")), "feedback", at))  # fmt: skip
            rows.append(_score(org, f"llm-{index}", trace_id, "relevance",
                               round(rng.random(), 2), "", "llm", at + 1))  # fmt: skip
            if len(rows) >= 10_000:
                conn.execute(insert(Score), rows)
                rows.clear()
        if rows:
            conn.execute(insert(Score), rows)
        rebuild_trace_quality(conn, org)
    print(f"added in {time.perf_counter() - started:.0f} s")


def _score(org, key, trace_id, name, value, label, source, at) -> dict:
    return {
        "org_id": org,
        "score_key": key,
        "trace_id": trace_id,
        "name": name,
        "value": value,
        "label": label,
        "source": source,
        "time_us": at,
        "created_us": at,
    }


def time_queries(engine, days: list[int], repeat: int) -> None:
    for length in days:
        start = BENCH_END - timedelta(days=length - 1)
        filters = Filters(start, BENCH_END, org="demo")
        grouping = automatic_grouping(filters.length_us)
        filters = Filters(start, BENCH_END, org="demo", grouping=grouping)
        print(f"\n{length} days ({start} .. {BENCH_END}, grouping {grouping.value})")
        for part, functions in page_queries().items():
            total = 0.0
            for name, function in functions.items():
                seconds = median_seconds(partial(function, engine, filters), repeat=repeat)
                total += seconds
                print(f"  {name:<28} {seconds * 1000:8.1f} ms")
            print(f"  = {part:<26} {total * 1000:8.1f} ms")


def post_scores(count: int, batch: int) -> None:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / "bench_scores_http.db"
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    init_store(engine)
    key, _ = create_key(engine, "default", "bench")
    rng = random.Random(3)
    scores = [
        {
            "trace_id": f"{rng.getrandbits(128):032x}",
            "name": "user_feedback",
            "label": rng.choice(("up", "down")),
            "id": f"bench-{index}",
        }
        for index in range(count)
    ]
    with tempfile.TemporaryDirectory() as home, product_server(url, Path(home)) as server:
        for size in (batch, 1):
            shown = scores if size > 1 else [{**s, "id": s["id"] + "-single"} for s in scores]
            shown = shown if size > 1 else shown[: min(count, 2000)]
            started = time.perf_counter()
            accepted = 0
            for begin in range(0, len(shown), size):
                chunk = shown[begin : begin + size]
                body = json.dumps(chunk if size > 1 else chunk[0]).encode()
                request = urllib.request.Request(
                    f"{server.url}/api/scores",
                    data=body,
                    headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                    method="POST",
                )
                with urllib.request.urlopen(request, timeout=60) as response:
                    accepted += json.loads(response.read())["accepted"]
            elapsed = time.perf_counter() - started
            print(
                f"POST /api/scores, {size} per request: {accepted:,} scores in {elapsed:.1f} s "
                f"= {accepted / elapsed:,.0f} scores/s"
            )
    with engine.connect() as conn:
        print(f"stored: {conn.execute(select(func.count()).select_from(Score)).scalar():,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--scores", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--days", type=int, nargs="+", default=[30, 365])
    parser.add_argument("--post", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--skip-queries", action="store_true")
    args = parser.parse_args()
    if not args.skip_queries:
        engine = bench_store(args.traces)
        ensure_scores(engine, args.scores)
        time_queries(engine, args.days, args.repeat)
    if args.post:
        post_scores(args.post, args.batch)


if __name__ == "__main__":
    main()
