"""Ingestion limits: read from the environment with clear errors; gzip inflated within them."""

from __future__ import annotations

import gzip

import pytest

from telemetry.ingest.http import Refused, gunzip_capped
from telemetry.ingest.limits import Limits, clip


def test_limits_come_from_the_environment_with_defaults():
    limits = Limits.from_env(
        {"TELEMETRY_MAX_BODY_BYTES": "1_000", "TELEMETRY_CONTENT_MAX_CHARS": ""}
    )
    assert (limits.max_body_bytes, limits.content_max_chars) == (1000, Limits().content_max_chars)


@pytest.mark.parametrize("text", ["lots", "0", "-5"])
def test_a_bad_limit_names_the_variable(text):
    with pytest.raises(ValueError, match="TELEMETRY_MAX_SPANS_PER_REQUEST"):
        Limits.from_env({"TELEMETRY_MAX_SPANS_PER_REQUEST": text})


def test_clip_marks_what_it_cuts():
    assert clip("abcdef", 4) == "abc…"
    assert clip("abc", 4) == "abc"


def test_gzip_members_are_inflated_up_to_the_limit():
    body = gzip.compress(b"a" * 600) + gzip.compress(b"b" * 400)
    assert gunzip_capped(body, 1000) == b"a" * 600 + b"b" * 400
    with pytest.raises(Refused) as refused:
        gunzip_capped(body, 999)
    assert refused.value.status == 413
    with pytest.raises(Refused) as broken:
        gunzip_capped(gzip.compress(b"x" * 100)[:-12], 1000)
    assert broken.value.status == 400
