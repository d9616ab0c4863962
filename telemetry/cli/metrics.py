"""``metrics``: print the headline numbers of a period, as a table or as the JSON contract."""

from __future__ import annotations

import argparse
import json
import textwrap
from datetime import UTC, date, datetime, timedelta
from typing import Any

from telemetry.cli.common import (
    add_filter_arguments,
    check_period,
    filters_of,
    open_store,
    window_of,
)
from telemetry.queries import HEADLINE_KEYS, headline_metrics

DEFAULT_DAYS = 30
_RATES = (
    "activation_rate",
    "completion_rate",
    "error_rate",
    "timeout_rate",
    "priced_share",
    "feedback_coverage",
    "positive_rate",
)
_SECTIONS = {
    "Adoption": (
        "users_total",
        "users_active",
        "users_new",
        "users_inactive",
        "activation_rate",
        "active_modules",
    ),
    "Activity": (
        "traces",
        "sessions",
        "traces_without_session",
        "finished",
        "ok",
        "errors",
        "timeouts",
        "running",
        "completion_rate",
        "error_rate",
        "timeout_rate",
    ),
    "Tokens and cost": (
        "generations",
        "priced_generations",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "cache_write_tokens",
        "reasoning_tokens",
        "cost_usd",
        "priced_share",
    ),
    "Quality": ("feedback_coverage", "positive_rate", "cost_per_good_run"),
}


def _epilog() -> str:
    width = max(len(key) for key in HEADLINE_KEYS)
    lines = [f"  {key:<{width}}  {meaning}" for key, meaning in HEADLINE_KEYS.items()]
    return (
        "Keys of the JSON object (a public contract; definitions in docs/metrics.md):\n"
        + "\n".join(lines)
        + "\n\nRates are null when their denominator is 0. A trace counts in the period its"
        "\nstart falls in; an LLM call (tokens, cost) in the period of its own start."
        "\n--last 1h and --last 24h give the same keys over the window ending now: then"
        "\nfilters.from and filters.to are its UTC instants [from, to) and filters.days its"
        "\nlength in days (1h = 0.041667)."
        "\nKey order and list order are fixed, so identical stores print identical JSON."
        "\n\nExit status: 0 on success, 2 for an unknown organization, a bad date or"
        "\n--to before --from."
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "metrics",
        help="print the headline numbers of a period (table or --json)",
        description=textwrap.fill(
            "Print adoption, activity, token and cost figures of one organization for a "
            "period of whole UTC days, or for the last hour or 24 hours (--last 1h|24h), "
            "optionally restricted to teams and environments. "
            "Without --from, --to or --last: the last 30 days ending today (UTC). With only "
            "--from: from that day up to today. With only --to: the 30 days ending on it.",
            width=80,
        ),
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_filter_arguments(
        parser,
        dates_required=False,
        first_day_help="first day (UTC)",
        environment_help="only this environment, e.g. production; repeat for several "
        "(default: all)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object (keys listed below)"
    )
    parser.set_defaults(func=run_metrics)


def period(start: date | None, end: date | None, today: date | None = None) -> tuple[date, date]:
    """The inclusive period asked for, with the documented defaults filled in."""
    today = today or datetime.now(UTC).date()
    if start is None and end is None:
        end = today
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    if end is None:
        end = max(today, start)
    check_period(start, end)
    return start, end


def run_metrics(args: argparse.Namespace) -> int:
    filters = window_of(args)
    if filters is None:
        start, end = period(args.start, args.end)
        filters = filters_of(args, start, end)
    metrics = headline_metrics(open_store(), filters)
    if args.json:
        print(json.dumps(metrics, indent=2, ensure_ascii=False))
    else:
        print(render_table(metrics))
    return 0


# --- the readable table ---------------------------------------------------------


def _number(key: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if key in _RATES:
        return f"{value:.1%}"
    if key in ("cost_usd", "cost_per_good_run"):
        return f"${value:,.6f}"
    return f"{value:,}"


def _grid(header: list[str], rows: list[list[str]], text_columns: int = 1) -> list[str]:
    """Align columns: the first ``text_columns`` to the left, the numbers to the right."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = []
    for row in [header, *rows]:
        cells = [
            cell.ljust(width) if i < text_columns else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  " + "  ".join(cells).rstrip())
    return lines


def _describe_filters(echo: dict[str, Any]) -> str:
    teams = ", ".join(echo["teams"]) if echo["teams"] is not None else "all"
    environments = ", ".join(echo["environments"]) if echo["environments"] is not None else "all"
    if isinstance(echo["days"], int):
        period = f"{echo['from']} .. {echo['to']} ({echo['days']} days, UTC)"
    else:  # a window: from included, to excluded
        period = f"{echo['from']} to {echo['to']} (window, to excluded)"
    return (
        f"Organization {echo['org']}, {period}; "
        f"teams: {teams or 'none'}; environments: {environments or 'none'}"
    )


def render_table(metrics: dict[str, Any]) -> str:
    """The ``metrics`` dict as aligned plain-text sections."""
    lines = [_describe_filters(metrics["filters"])]
    for title, keys in _SECTIONS.items():
        lines += ["", title]
        lines += _grid(["metric", "value"], [[key, _number(key, metrics[key])] for key in keys])
    model_columns = ["provider", "model", "calls", "input_tokens", "output_tokens", "cost_usd"]
    lines += ["", "By model"]
    lines += _listing(metrics["by_model"], model_columns, text_columns=2)
    lines += ["", "By team"]
    lines += _listing(metrics["by_team"], ["team", "users_active", "traces", "cost_usd"])
    lines += ["", "By score"]
    scores = [
        {**score, "labels": " ".join(f"{k}:{v}" for k, v in score["labels"].items()) or "-"}
        for score in metrics["by_score"]
    ]
    lines += _listing(scores, ["name", "labels", "count", "mean"], text_columns=2)
    return "\n".join(lines)


def _listing(records: list[dict[str, Any]], columns: list[str], text_columns: int = 1) -> list[str]:
    if not records:
        return ["  (none in this period)"]
    rows = [
        [record[c] if isinstance(record[c], str) else _number(c, record[c]) for c in columns]
        for record in records
    ]
    return _grid(columns, rows, text_columns)
