"""``POST /api/scores``: scores (user feedback, evaluations) as JSON, one or a list.

Same port and keys as ``/v1/traces``: ``Authorization: Bearer KEY`` (401
without a valid key, nothing read), 400 for a body that is not JSON, 413 over
the body limit, 503 when the store is busy. Otherwise 200 with
``{"accepted": N, "rejected": [{"index": i, "reason": "..."}]}``: each item is
checked on its own, so a bad one never costs the others (docs/jsonl.md lists
the fields; ``duplicates`` counts items already stored, which change nothing).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from telemetry.apikeys import authenticate
from telemetry.ingest.limits import Limits
from telemetry.ingest.otlp import Rejection
from telemetry.ingest.scores import ScoreItem
from telemetry.ingest.writer import SpanWriter
from telemetry.scores import ScoreError, read_score

SCORES_PATH = "/api/scores"
MAX_SCORES_PER_REQUEST = 10_000
logger = logging.getLogger(__name__)


def score_routes(
    get_engine: Callable[[], Engine], *, limits: Limits | None = None
) -> list[BaseRoute]:
    """The route to mount beside the dashboard: ``POST /api/scores``."""
    endpoint = ScoreEndpoint(get_engine, limits or Limits.from_env())
    return [Route(SCORES_PATH, endpoint.post, methods=["POST"])]


def _error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status, headers=headers or None)


class ScoreEndpoint:
    def __init__(self, get_engine: Callable[[], Engine], limits: Limits) -> None:
        self.get_engine = get_engine
        self.limits = limits

    async def post(self, request: Request) -> JSONResponse:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return _error(
                401,
                "missing API key: send the header 'Authorization: Bearer <key>' "
                "(create a key with: python -m telemetry keys create --org SLUG)",
            )
        found = await run_in_threadpool(self._authenticate, key.strip())
        if found is None:
            return _error(401, "the API key is not valid or was revoked")
        body = await self._body(request)
        if body is None:
            return _error(413, f"the body is over the limit of {self.limits.max_body_bytes} bytes")
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            return _error(400, f"the body is not JSON ({error}); send an object or a list of them")
        items = document if isinstance(document, list) else [document]
        if len(items) > MAX_SCORES_PER_REQUEST:
            return _error(
                413, f"{len(items)} scores in one request; send at most {MAX_SCORES_PER_REQUEST}"
            )
        client = request.client.host if request.client else "unknown client"
        org_id, key_id, prefix = found
        source = f"POST {SCORES_PATH} from {client} (key {prefix}…)"
        try:
            answer = await run_in_threadpool(
                self._store, org_id, key_id, source, f"key {prefix}…", items
            )
        except OperationalError:
            logger.exception("scores: the store could not be written")
            return _error(
                503, "the store is busy or unavailable; retry later", **{"Retry-After": "5"}
            )
        return JSONResponse(answer)

    def _authenticate(self, key: str) -> tuple[int, int, str] | None:
        with self.get_engine().connect() as conn:
            return authenticate(conn, key)

    async def _body(self, request: Request) -> bytes | None:
        limit = self.limits.max_body_bytes
        chunks, received = [], 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    def _store(
        self, org_id: int, key_id: int, source: str, author: str, items: list
    ) -> dict[str, object]:
        scores: list[ScoreItem] = []
        refused: list[Rejection] = []
        index_of: dict[str, int] = {}
        for index, item in enumerate(items):
            location = f"{SCORES_PATH} item {index}"
            index_of[location] = index
            raw = json.dumps(item, ensure_ascii=False, default=str)[:10_000]
            try:
                scores.append(ScoreItem(location, read_score(item, author=author), raw))
            except ScoreError as error:
                refused.append(Rejection(location, str(error), raw))
        writer = SpanWriter(self.get_engine(), org_id, source=source, api_key_id=key_id)
        outcome = writer.write((), refused, scores=scores)
        rejected = [*outcome.rejections, *outcome.score_rejections]
        return {
            "accepted": outcome.scores_stored + outcome.score_duplicates,
            "duplicates": outcome.score_duplicates,
            "rejected": sorted(
                ({"index": index_of[r.location], "reason": r.reason} for r in rejected),
                key=lambda r: r["index"],
            ),
        }
