"""Bounds on every number that comes in, and text made storable (docs/ingest.md, "Limits").

The rule: a number outside its bounds rejects the span (quarantined with its
raw text, the reason naming the field), it is never stored as is nor clipped,
because a clipped token count or time would be a wrong figure that looks right.
Text is repaired instead: NUL characters (which PostgreSQL cannot store) and
lone surrogates become U+FFFD, integers beyond 64 bits and non-text keys in
attributes become text, values nested too deeply are cut; the span then carries
the attribute ``telemetry.ingest.cleaned`` listing the fields repaired.

Why these bounds: the sums of the store and the rollups are 64-bit integers
(BIGINT on both databases) and floats. At most 10^9 tokens per count and call,
five counts, keep a billion calls' sums under 5 * 10^18 < 2^63 - 1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from telemetry.ingest.attributes import MAPPING
from telemetry.timeutil import US_PER_DAY, rfc3339

EARLIEST_US = 946_684_800_000_000  # 2000-01-01T00:00:00Z
FUTURE_SLACK_US = US_PER_DAY  # times up to a day ahead of the server's clock (skewed clocks)
DURATION_MAX_US = 7 * US_PER_DAY  # one span
TOKENS_MAX = 1_000_000_000  # each token count of one call
COST_MAX_USD = 1_000_000.0  # one call, provided or computed
CODE_LINES_MAX = 10_000_000  # code.lines_added / code.lines_removed of one span
DEPTH_MAX = 64  # nesting of one attribute value
INT64_MAX = 2**63 - 1
TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)
CODE_LINE_ATTRIBUTES = ("code.lines_added", "code.lines_removed")
CLEANED_ATTRIBUTE = "telemetry.ingest.cleaned"
_OTLP_NAMES = {"start_us": "startTimeUnixNano", "end_us": "endTimeUnixNano", "cost_usd": "cost"}
_NUL = "\x00"
_REPLACEMENT = "\ufffd"


class OutOfBounds(ValueError):
    """A number outside its documented bounds; the message names the field and the bound."""


# --- numbers -------------------------------------------------------------------------


def check_span_times(start_ns: int, end_ns: int, now_us: int) -> None:
    """Refuse OTLP span times outside the window, before they are turned into days."""
    _check_time(start_ns // 1000, "startTimeUnixNano", now_us)
    if end_ns:
        _check_time(end_ns // 1000, "endTimeUnixNano", now_us)


def _check_time(us: int, name: str, now_us: int) -> None:
    if us < EARLIEST_US:
        raise OutOfBounds(f"{name} is {_when(us)}, before 2000-01-01, the earliest time accepted")
    if us > now_us + FUTURE_SLACK_US:
        raise OutOfBounds(
            f"{name} is {_when(us)}, more than a day after the server's clock "
            f"({rfc3339(now_us)}); check the sender's clock"
        )


def _when(us: int) -> str:
    try:
        return rfc3339(us)
    except (OverflowError, ValueError):  # beyond year 9999 or before year 1
        return f"{us * 1000} ns since 1970"


def check_record(record: dict[str, Any], now_us: int, name_of: Callable[[str], str] = str) -> None:
    """Refuse a record whose times, durations, token counts, cost or code lines are out of
    bounds (:class:`OutOfBounds`); then repair its text in place (see the module doc).

    ``name_of`` turns a record field into the name the sender used (an attribute).
    """
    start = record["start_us"]
    _check_time(start, name_of("start_us"), now_us)
    end = record["end_us"]
    if end is not None:
        _check_time(end, name_of("end_us"), now_us)
        if end < start:
            raise OutOfBounds(f"{name_of('end_us')} is before {name_of('start_us')}")
        if end - start > DURATION_MAX_US:
            raise OutOfBounds(
                f"the span lasts {(end - start) / US_PER_DAY:.1f} days, "
                f"more than the limit of {DURATION_MAX_US // US_PER_DAY} days"
            )
    for field in TOKEN_FIELDS:
        count = record[field]
        if not 0 <= count <= TOKENS_MAX:
            raise OutOfBounds(
                f"{name_of(field)} is {count}, outside 0..{TOKENS_MAX:_} tokens per call"
            )
    cost = record["cost_usd"]
    if not 0 <= cost <= COST_MAX_USD:  # NaN fails too
        raise OutOfBounds(f"{name_of('cost_usd')} is {cost}, outside 0..{COST_MAX_USD:_.0f} USD")
    attributes = record["attributes"]
    for key in CODE_LINE_ATTRIBUTES:
        if key in attributes:
            _check_code_lines(key, attributes[key])
    for index, event in enumerate(record["events"]):
        if event["time_us"]:  # 0: no time given
            _check_time(event["time_us"], f"events[{index}].timeUnixNano", now_us)
    clean_record(record)


def _check_code_lines(key: str, value: Any) -> None:
    if value is None or isinstance(value, bool):
        return
    try:
        lines = int(value)
    except (TypeError, ValueError):
        return  # not a number: ignored by the trace summary (telemetry.derive)
    except OverflowError:
        lines = -1
    if not 0 <= lines <= CODE_LINES_MAX:
        raise OutOfBounds(f"{key} is {value!r}, outside 0..{CODE_LINES_MAX:_} lines")


def otlp_names(attrs: dict[str, Any]) -> Callable[[str], str]:
    """``name_of`` for an OTLP span: a token or cost field named by the attribute sending it."""

    def name_of(field: str) -> str:
        mapped = "cost" if field == "cost_usd" else field
        for key in MAPPING.get(mapped, ()):
            if key in attrs:
                return key
        return _OTLP_NAMES.get(field, field)

    return name_of


# --- text ----------------------------------------------------------------------------


def clean_text(text: str) -> str:
    """``text`` without NUL characters or lone surrogates (each becomes U+FFFD)."""
    if _NUL in text:
        text = text.replace(_NUL, _REPLACEMENT)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Pairs are joined, lone surrogates replaced.
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def clean_record(record: dict[str, Any]) -> None:
    """Repair the record's text in place (NUL, surrogates, huge integers, odd keys, depth)
    and flag the fields repaired in its ``telemetry.ingest.cleaned`` attribute."""
    try:
        blob = orjson.dumps(record)
    except (TypeError, ValueError):
        blob = None  # something orjson cannot write: walk it
    if blob is not None and b"\\u0000" not in blob:
        return  # the common case: nothing to repair
    repaired = []
    for field, value in record.items():
        changes: list[bool] = []
        cleaned = _clean_value(value, 0, changes)
        if changes:
            record[field] = cleaned
            repaired.append(field)
    if repaired:
        record["attributes"] = {**record["attributes"], CLEANED_ATTRIBUTE: sorted(repaired)}


def _clean_value(value: Any, depth: int, changes: list[bool]) -> Any:
    """``value`` made storable; appends to ``changes`` when something had to change."""
    if isinstance(value, str):
        cleaned = clean_text(value)
        if cleaned is not value:
            changes.append(True)
        return cleaned
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        if -INT64_MAX - 1 <= value <= INT64_MAX:
            return value
        changes.append(True)
        return str(value)
    if isinstance(value, dict | list | tuple) and depth >= DEPTH_MAX:
        changes.append(True)
        return f"[cut: nested more than {DEPTH_MAX} levels]"
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                changes.append(True)
                key = str(key)
            out[_clean_value(key, depth, changes)] = _clean_value(item, depth + 1, changes)
        return out
    if isinstance(value, list | tuple):
        return [_clean_value(item, depth + 1, changes) for item in value]
    changes.append(True)
    return clean_text(str(value))


def clean_document(value: Any) -> Any:
    """A parsed JSON document with lone surrogates in its strings and keys replaced."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(key): clean_document(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_document(item) for item in value]
    return value
