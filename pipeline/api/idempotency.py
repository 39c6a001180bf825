"""Idempotency-Key handling (IETF draft, Stripe): claim, replay, conflict and mismatch, per user.

A request with a key first claims ``(user, key)`` in its own committed transaction. The first
response, status and body (problems included), is stored and replayed for the same request;
the same key with another request is a 422, and while the first request still runs a 409.
Keys are kept ``RETENTION_SECONDS``; older ones count as absent and
``Repositories.idempotency.cleanup`` deletes them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from pipeline.api.errors import PROBLEM_JSON, IdempotencyInProgress, IdempotencyMismatch
from pipeline.store import Repositories

__all__ = [
    "HEADER",
    "LOCK_SECONDS",
    "REPLAYED_HEADER",
    "RETENTION_SECONDS",
    "Claimed",
    "InvalidKey",
    "Replay",
    "claim",
    "request_hash",
    "respond",
    "validate_key",
]

HEADER: Final = "Idempotency-Key"
REPLAYED_HEADER: Final = "Idempotent-Replayed"
RETENTION_SECONDS: Final = 24 * 3600
# A claim still running after this long is taken to have died: the same request may take it over.
LOCK_SECONDS: Final = 60
MAX_KEY_LENGTH: Final = 255
# Visible ASCII only: UUIDs, ULIDs and random tokens all fit; spaces and controls do not.
_KEY: Final = re.compile(r"[\x21-\x7e]{1,255}")


class InvalidKey(ValueError):
    """The Idempotency-Key header is missing or malformed."""


@dataclass(frozen=True)
class Claimed:
    """This request owns the key: run it, then ``complete`` (or ``release`` on a crash)."""


@dataclass(frozen=True)
class Replay:
    """The key's first response, to send again as it was."""

    status: int
    body: Any


def validate_key(value: str | None) -> str:
    """The header's value if it is 1 to 255 visible ASCII characters; InvalidKey otherwise."""
    if value is None:
        raise InvalidKey(f"the {HEADER} header is required")
    if not _KEY.fullmatch(value):
        raise InvalidKey(
            f"the {HEADER} header must be 1 to {MAX_KEY_LENGTH} visible ASCII characters"
        )
    return value


def request_hash(method: str, path: str, body: Any) -> str:
    """sha256 of the method, the path and the body as canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method.upper()}\n{path}\n{canonical}".encode()).hexdigest()


def claim(
    *,
    repos: Repositories,
    user_id: UUID,
    key: str,
    request: str,
    retention_seconds: int = RETENTION_SECONDS,
) -> Claimed | Replay:
    """Claims the key for this request, or returns the stored response.

    Raises IdempotencyMismatch (422) for another request under the key and IdempotencyInProgress
    (409) while the first request runs. The claim commits before the request runs.
    """
    # A row deleted by cleanup between the insert and the read: try again.
    for _ in range(3):
        found = repos.idempotency.claim(
            user_id=user_id,
            key=key,
            request_hash=request,
            lock_seconds=LOCK_SECONDS,
            retention_seconds=retention_seconds,
        )
        if found.claimed:
            return Claimed()
        record = found.record
        if record is None:
            continue
        if record.request_hash != request:
            raise IdempotencyMismatch()
        if record.state != "done" or record.response_status is None:
            raise IdempotencyInProgress("idempotency key: the first request is still running")
        return Replay(status=record.response_status, body=record.response_body)
    raise IdempotencyInProgress("idempotency key: could not claim the key; retry")


def _handler(request: Request, exc: Exception) -> Callable[[Request, Exception], Any] | None:
    handlers: dict[Any, Callable[[Request, Exception], Any]] = request.app.exception_handlers
    for cls in type(exc).__mro__:
        if cls in handlers and cls is not Exception:
            return handlers[cls]
    return None


def respond(
    *,
    request: Request,
    repos: Repositories,
    user_id: UUID,
    key: str,
    body: Any,
    run: Callable[[], tuple[int, Any]],
) -> Response:
    """Runs ``run`` once per (user, key): its (status, JSON body), or its 4xx problem, is stored
    and replayed; a 5xx or unexpected error frees the key for a retry and propagates."""
    fingerprint = request_hash(request.method, request.url.path, body)
    retention = request.app.state.settings.service.idempotency_retention_seconds
    outcome = claim(
        repos=repos, user_id=user_id, key=key, request=fingerprint, retention_seconds=retention
    )
    if isinstance(outcome, Replay):
        return _json(outcome.status, outcome.body, replayed=True)
    try:
        status, content = run()
    except Exception as exc:
        handler = _handler(request, exc)
        response = handler(request, exc) if handler is not None else None
        if not isinstance(response, JSONResponse) or not 400 <= response.status_code < 500:
            repos.idempotency.release(user_id=user_id, key=key)
            raise
        status, content = response.status_code, json.loads(bytes(response.body))
    repos.idempotency.complete(user_id=user_id, key=key, status=status, body=content)
    return _json(status, content, replayed=False)


def _json(status: int, content: Any, *, replayed: bool) -> Response:
    # Canonical JSON, so a replay is byte for byte the first response (jsonb reorders keys).
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return Response(
        text.encode(),
        status_code=status,
        media_type=PROBLEM_JSON if status >= 400 else "application/json",
        headers={REPLAYED_HEADER: "true"} if replayed else None,
    )
