"""Scores: what a score is, how one sent by anyone is read and checked, and what is a verdict.

A score (docs/metrics.md, "Quality") judges a trace, a span or a session: a name, a
numeric value and/or a label, an optional comment, a source and who gave it.
Organizations may configure the names they accept (kind, labels, range) in
``score_config``; without any configured name every name is accepted. Storing
happens in :mod:`telemetry.ingest.scores`; this module reads and checks.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, select

from telemetry.models import ScoreConfig, ScoreKind, ScoreSource
from telemetry.timeutil import now_us, parse_rfc3339, to_us

# Verdict scores say whether a run was good; these names always are (an organization
# may mark more as verdicts in its score configuration).
VERDICT_NAMES = frozenset({"user_feedback", "review"})
POSITIVE_LABELS = frozenset({"up", "good", "yes", "true", "pass"})
SOURCES = tuple(str(source) for source in ScoreSource)
KINDS = tuple(str(kind) for kind in ScoreKind)
NAME_MAX = 100
LABEL_MAX = 100
COMMENT_MAX = 10_000
KEY_MAX = 128
AUTHOR_MAX = 256
_TRACE_ID = re.compile(r"[0-9a-f]{32}")
_SPAN_ID = re.compile(r"[0-9a-f]{16}")


class ScoreError(ValueError):
    """A score that cannot be stored; the message says which field and why."""


def is_positive(label: str | None, value: float | None) -> bool:
    """A verdict is positive when its label is up/good/yes/true/pass or its value is > 0."""
    if label and label.strip().lower() in POSITIVE_LABELS:
        return True
    return value is not None and value > 0


@dataclass(frozen=True)
class ScoreRules:
    """An organization's configured score names (empty: any name) and its verdict names."""

    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    verdict_names: frozenset[str] = VERDICT_NAMES

    def is_verdict(self, name: str) -> bool:
        return name in self.verdict_names

    def problem(self, score: dict[str, Any]) -> str | None:
        """Why ``score`` is refused by the configuration, or ``None`` when it is accepted."""
        name = score["name"]
        config = self.configs.get(name)
        if config is None:
            if self.configs:
                known = ", ".join(sorted(self.configs))
                return (
                    f"unknown score name {name!r}: this organization accepts {known} "
                    "(an admin adds names with: python -m telemetry scores config set)"
                )
            return None
        return _config_problem(config, score["value"], score["label"])


def _config_problem(config: dict[str, Any], value: float | None, label: str) -> str | None:
    name, kind, labels = config["name"], config["kind"], config["labels"]
    if kind == ScoreKind.NUMERIC and value is None:
        return f"score {name!r} is numeric: send a number in 'value'"
    if kind == ScoreKind.CATEGORICAL and not label:
        return f"score {name!r} is categorical: send one of {', '.join(labels)} in 'label'"
    if kind == ScoreKind.BOOLEAN and value is not None and value not in (0, 1):
        return f"score {name!r} is boolean: value must be 0 or 1, not {value:g}"
    if label and labels and label not in labels:
        return f"label {label!r} is not allowed for {name!r}: use one of {', '.join(labels)}"
    low, high = config["min_value"], config["max_value"]
    if value is not None and low is not None and value < low:
        return f"value {value:g} of {name!r} is below its minimum {low:g}"
    if value is not None and high is not None and value > high:
        return f"value {value:g} of {name!r} is above its maximum {high:g}"
    return None


def score_rules(conn: Connection, org_id: int) -> ScoreRules:
    """The organization's score configuration as :class:`ScoreRules`."""
    configs = {config["name"]: config for config in score_configs(conn, org_id)}
    extra = {name for name, config in configs.items() if config["verdict"]}
    return ScoreRules(configs, VERDICT_NAMES | extra)


def score_configs(conn: Connection, org_id: int) -> list[dict[str, Any]]:
    """The configured score names of an organization, by name (labels as a tuple)."""
    rows = conn.execute(
        select(ScoreConfig).where(ScoreConfig.org_id == org_id).order_by(ScoreConfig.name)
    )
    out = []
    for row in rows:
        config = row._asdict()
        config["labels"] = tuple(part for part in config["labels"].split(",") if part)
        config["verdict"] = bool(config["verdict"])
        out.append(config)
    return out


def set_score_config(
    conn: Connection,
    org_id: int,
    name: str,
    *,
    kind: str = ScoreKind.NUMERIC,
    labels: tuple[str, ...] = (),
    min_value: float | None = None,
    max_value: float | None = None,
    verdict: bool = False,
    description: str = "",
) -> None:
    """Create or replace one configured score name (call inside a transaction)."""
    name = _name(name, "name")
    if kind not in KINDS:
        raise ScoreError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    labels = tuple(_label(label) for label in labels if label.strip())
    if any("," in label for label in labels):
        raise ScoreError("a label may not contain a comma")
    if kind == ScoreKind.CATEGORICAL and not labels:
        raise ScoreError(f"a categorical score needs its labels (e.g. --labels yes,no for {name})")
    if min_value is not None and max_value is not None and min_value > max_value:
        raise ScoreError(f"minimum {min_value:g} is above maximum {max_value:g}")
    remove_score_config(conn, org_id, name)
    conn.execute(
        ScoreConfig.__table__.insert().values(
            org_id=org_id,
            name=name,
            kind=str(kind),
            labels=",".join(labels),
            min_value=min_value,
            max_value=max_value,
            verdict=verdict,
            description=description[:500],
        )
    )


def remove_score_config(conn: Connection, org_id: int, name: str) -> bool:
    """Forget one configured name; True when it existed. Stored scores stay."""
    result = conn.execute(
        delete(ScoreConfig).where(ScoreConfig.org_id == org_id, ScoreConfig.name == name)
    )
    return bool(result.rowcount)


# --- reading a score as sent --------------------------------------------------------


def read_score(
    obj: Any,
    *,
    default_source: str = ScoreSource.FEEDBACK,
    author: str = "",
    any_trace_key: bool = False,
) -> dict[str, Any]:
    """A score as the API and JSONL send it (docs/jsonl.md), checked field by field.

    Keys: ``trace_id`` (32 hex digits) or ``session_id``, optional ``span_id``,
    ``name``, ``value`` and/or ``label``, optional ``comment``, ``source``, ``id``,
    ``time`` (RFC 3339) and ``author``. ``any_trace_key``: the trace id may be any
    key of up to 64 characters (native JSONL traces name their own ids).
    Raises :class:`ScoreError` naming the field.
    """
    if not isinstance(obj, dict):
        raise ScoreError(f"a score is a JSON object, not {type(obj).__name__}")
    if any_trace_key:
        trace_id = _optional_text(obj, "trace_id", 64).strip()
    else:
        trace_id = _hex_id(obj.get("trace_id"), _TRACE_ID, "trace_id", 32)
    session_key = _optional_text(obj, "session_id", 256)
    if not trace_id and not session_key:
        raise ScoreError("trace_id is missing (32 hex digits, as in OTLP), or give session_id")
    source = obj.get("source", default_source) or default_source
    if source not in SOURCES:
        raise ScoreError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    score = {
        "trace_id": trace_id,
        "span_id": _hex_id(obj.get("span_id"), _SPAN_ID, "span_id", 16),
        "session_key": session_key,
        "name": _name(obj.get("name"), "name"),
        "value": _value(obj.get("value")),
        "label": _label(obj.get("label")),
        "comment": _optional_text(obj, "comment", COMMENT_MAX, clip=True),
        "source": str(source),
        "author": _optional_text(obj, "author", AUTHOR_MAX, clip=True) or author[:AUTHOR_MAX],
        "time_us": _time(obj.get("time")),
    }
    return finish_score(score, obj.get("id"))


def finish_score(score: dict[str, Any], key: Any = None) -> dict[str, Any]:
    """Check that ``score`` says something and give it its idempotency key.

    Without an ``id`` the key is a digest of what the score says, so the same score
    sent twice is stored once.
    """
    if score["value"] is None and not score["label"]:
        raise ScoreError(f"score {score['name']!r} has neither 'value' (a number) nor 'label'")
    if key is None or key == "":
        given = {k: score[k] for k in sorted(score) if k != "time_us"}
        digest = hashlib.sha256(json.dumps(given, sort_keys=True).encode()).hexdigest()
        key = "auto:" + digest[:40]
    elif not isinstance(key, str | int) or isinstance(key, bool) or len(str(key)) > KEY_MAX:
        raise ScoreError(f"id must be a string of at most {KEY_MAX} characters")
    score["score_key"] = str(key)
    return score


def _hex_id(value: Any, pattern: re.Pattern, field_name: str, digits: int) -> str:
    if value is None or value == "":
        return ""
    text = value.strip().lower() if isinstance(value, str) else ""
    if not pattern.fullmatch(text) or not text.strip("0"):
        raise ScoreError(f"{field_name} must be {digits} hex digits, not all zero (got {value!r})")
    return text


def _name(value: Any, field_name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScoreError(f"{field_name} is missing: the score's name, e.g. user_feedback")
    value = value.strip()
    if len(value) > NAME_MAX:
        raise ScoreError(f"{field_name} is longer than {NAME_MAX} characters")
    return value


def _label(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str):
        raise ScoreError(f"label must be a string, not {type(value).__name__}")
    value = value.strip()
    if len(value) > LABEL_MAX:
        raise ScoreError(f"label is longer than {LABEL_MAX} characters")
    return value


def _value(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    raise ScoreError(f"value must be a finite number, not {value!r}")


def _optional_text(obj: dict, name: str, limit: int, *, clip: bool = False) -> str:
    value = obj.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ScoreError(f"{name} must be a string, not {type(value).__name__}")
    if len(value) > limit and not clip:
        raise ScoreError(f"{name} is longer than {limit} characters")
    return value[:limit]


def _time(value: Any) -> int:
    if value is None or value == "":
        return now_us()
    if not isinstance(value, str):
        raise ScoreError("time must be an RFC 3339 string with a zone, e.g. 2026-05-01T10:00:00Z")
    try:
        return to_us(parse_rfc3339(value))
    except ValueError as error:
        raise ScoreError(f"time: {error}") from None
