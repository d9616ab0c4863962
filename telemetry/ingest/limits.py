"""Size limits of ingestion, each overridable by an environment variable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

MIB = 1024 * 1024

# Field name -> environment variable that overrides it.
_ENV_NAMES = {
    "max_body_bytes": "TELEMETRY_MAX_BODY_BYTES",
    "max_spans_per_request": "TELEMETRY_MAX_SPANS_PER_REQUEST",
    "content_max_chars": "TELEMETRY_CONTENT_MAX_CHARS",
    "attribute_max_chars": "TELEMETRY_ATTRIBUTE_MAX_CHARS",
    "batch_spans": "TELEMETRY_INGEST_BATCH_SPANS",
}


@dataclass(frozen=True)
class Limits:
    """How much one request, one attribute and one write transaction may hold."""

    max_body_bytes: int = 8 * MIB  # compressed and decompressed request body
    max_spans_per_request: int = 20_000
    content_max_chars: int = 4_000  # prompts, responses, tool arguments and results
    attribute_max_chars: int = 1_000  # any other attribute value
    batch_spans: int = 10_000  # spans per write transaction

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """Defaults overridden by ``TELEMETRY_*`` variables (see ``_ENV_NAMES``)."""
        environ = os.environ if environ is None else environ
        values = {}
        for field in fields(cls):
            name = _ENV_NAMES[field.name]
            text = environ.get(name, "").strip()
            if not text:
                continue
            try:
                value = int(text.replace("_", ""))
            except ValueError:
                raise ValueError(f"{name}={text!r} is not a whole number") from None
            if value < 1:
                raise ValueError(f"{name}={text!r} must be at least 1")
            values[field.name] = value
        return cls(**values)


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marked with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + "…"
