"""Every error as ``application/problem+json`` (RFC 9457): the Problem model and the handlers.

status  cause
400     malformed JSON (detail gives the position)
401     missing, expired or invalid token (with WWW-Authenticate)
402     InsufficientCredits
403     a valid token whose user has no account here (AccountUnknown)
404     unknown id, or another user's id (never 403)
405     a method the path does not answer (``Allow`` lists every one it does)
409     a concurrent change won, or the same Idempotency-Key is still running
413     body over the size limit, or an upload over its kind's cap (``field``: file)
415     a body other than JSON on a JSON operation (``contract``)
422     invalid body or brief (``field`` names it), Idempotency-Key reused with another body
501     a feature this deployment does not offer (signed uploads without Supabase Storage)
503     the database is unreachable
500     anything else, without internals
"""

from __future__ import annotations

import logging
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from pipeline.api.accounts import AccountUnknown
from pipeline.api.auth import InvalidToken
from pipeline.api.contract import UnsupportedMediaType, allowed_methods
from pipeline.errors import BadInput, ReelforgeError
from pipeline.store.errors import (
    AccessDenied,
    Conflict,
    InsufficientCredits,
    NotFound,
    StoreUnavailable,
)

__all__ = [
    "PROBLEM_JSON",
    "BodyTooLarge",
    "ContentTooLarge",
    "IdempotencyInProgress",
    "IdempotencyMismatch",
    "Problem",
    "install_error_handlers",
    "problem_response",
    "problem_responses",
]

PROBLEM_JSON: Final = "application/problem+json"
_TYPE_BASE: Final = "https://reelforge.dev/problems/"
_log = logging.getLogger("pipeline.api")

_TITLES: Final = {
    400: "Malformed request",
    401: "Unauthorized",
    402: "Insufficient credits",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid input",
    500: "Internal server error",
    501: "Not implemented",
    503: "Service unavailable",
}
_SLUGS: Final = {
    400: "malformed-request",
    401: "unauthorized",
    402: "insufficient-credits",
    403: "unknown-account",
    404: "not-found",
    409: "conflict",
    413: "content-too-large",
    415: "unsupported-media-type",
    422: "invalid-input",
    500: "internal",
    501: "not-implemented",
    503: "unavailable",
}


class Problem(BaseModel):
    """An RFC 9457 problem: what went wrong, and the field when one input is to blame."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "https://reelforge.dev/problems/invalid-input",
                    "title": "Invalid input",
                    "status": 422,
                    "detail": "file not found: missing.png",
                    "field": "product.photos[0]",
                }
            ]
        }
    )

    type: str = Field(description="URI naming the kind of problem")
    title: str = Field(description="short summary of the kind of problem")
    status: int = Field(description="the HTTP status code")
    detail: str = Field(description="what went wrong in this request")
    field: str | None = Field(default=None, description="the input field at fault, if known")


class BodyTooLarge(HTTPException):
    """The request body is over the limit (raised while streaming it)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class ContentTooLarge(BadInput):
    """One field's content is over its size cap (413, naming the field)."""


class IdempotencyInProgress(Conflict):
    """A request with this Idempotency-Key is still running."""


class IdempotencyMismatch(BadInput):
    """This Idempotency-Key was used with a different request body."""

    def __init__(self) -> None:
        super().__init__("Idempotency-Key", "was already used with a different request body")


def problem_response(
    status: int,
    detail: str,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response; ``field`` is left out when unknown."""
    problem = Problem(
        type=_TYPE_BASE + _SLUGS.get(status, str(status)),
        title=_TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        field=field,
    )
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_JSON,
    )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the given error statuses."""
    return {s: {"model": Problem, "description": _TITLES.get(s, "Error")} for s in statuses}


def _field(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    error = exc.errors()[0]
    loc = tuple(error.get("loc", ()))
    if error.get("type") == "json_invalid":
        position = loc[-1] if loc else "?"
        reason = (error.get("ctx") or {}).get("error", "invalid JSON")
        return problem_response(400, f"the body is not valid JSON: {reason} at position {position}")
    if loc and loc[0] in ("body", "query", "path", "header"):
        loc = loc[1:]
    field = _field(loc) or None
    kind = error.get("type")
    if kind == "extra_forbidden":
        message = "unknown field"
    elif kind == "missing":
        message = "required field is missing"
    else:
        message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    return problem_response(422, message if field is None else f"{field}: {message}", field=field)


def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 405 and (allowed := allowed_methods(request.app, request.url.path)):
        headers = (headers or {}) | {"Allow": ", ".join(allowed)}  # every method of the path
    detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "Error")
    return problem_response(exc.status_code, detail, headers=headers)


def _bad_input(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BadInput)
    if isinstance(exc, InvalidToken):
        return problem_response(
            401,
            exc.problem,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    if isinstance(exc, UnsupportedMediaType):
        return problem_response(
            415, exc.message, field=exc.where, headers={"Accept": "application/json"}
        )
    if isinstance(exc, AccountUnknown):
        return problem_response(403, exc.problem)
    if isinstance(exc, NotFound):
        return problem_response(404, exc.problem)
    if isinstance(exc, InsufficientCredits):
        return problem_response(402, exc.problem)
    if isinstance(exc, ContentTooLarge):
        return problem_response(413, exc.message, field=exc.where)
    return problem_response(422, exc.message, field=exc.where)


def _conflict(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(409, "a concurrent request changed this resource; retry")


def _in_progress(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(409, "a request with this Idempotency-Key is still running")


def _access_denied(request: Request, exc: Exception) -> JSONResponse:
    # Row-level security refused: to the caller the row does not exist.
    return problem_response(404, "no such resource")


def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    _log.error("database unavailable: %s", exc)
    return problem_response(503, "the database is unavailable; retry later")


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    _log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "an unexpected error occurred")


def install_error_handlers(app: FastAPI) -> None:
    """Registers the handlers; subclasses are matched before their bases."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(BadInput, _bad_input)
    app.add_exception_handler(IdempotencyInProgress, _in_progress)
    app.add_exception_handler(Conflict, _conflict)
    app.add_exception_handler(AccessDenied, _access_denied)
    app.add_exception_handler(StoreUnavailable, _unavailable)
    # StageError, other StoreErrors and every other exception: a bare 500.
    app.add_exception_handler(ReelforgeError, _unexpected)
    app.add_exception_handler(Exception, _unexpected)
