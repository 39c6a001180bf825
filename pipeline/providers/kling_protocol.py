"""Kling's protocol around the adapter: the JWT it signs in with, the ``{code, message, data}``
envelope and its error code table, and a task's status as a query or a callback reports it.

From Kling's API reference (read 2026):
- General info: JWT authentication and the error code table
  https://app.klingai.com/global/dev/document-api/apiReference/commonInfo
- Rate limits (``1303`` parallel task over resource pack limit)
  https://kling.ai/document-api/apiReference/rateLimits
- Callback protocol (the body is the query response's ``data``)
  https://kling.ai/document-api/apiReference/callbackProtocol

Every answer is ``{code, message, request_id, data}``; ``code`` 0 is success. Errors come as HTTP
401/403/404/400/429/5xx with the same envelope (the retrying client turns them into ProviderError
subclasses carrying Kling's ``message``, which :func:`explained` words for Kling). Kling answers
account problems (1100-1102: arrears, resource pack used up) and its IP whitelist (1304) with
HTTP 429 too: :func:`retryable` tells the client that only 1302/1303 are rate limits. A non-zero
``code`` in a 2xx answer is mapped here with the documented code table. A task is
``submitted → processing → succeed | failed``; ``task_status_msg`` gives the reason of a failure
(e.g. the content risk control).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx
import jwt

from pipeline.providers.errors import (
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from pipeline.providers.tasks import TaskState, TaskStatus

__all__ = [
    "KLING_CODES",
    "TOKEN_SECONDS",
    "explained",
    "kling_token",
    "response_data",
    "retryable",
    "task_status",
]

TOKEN_SECONDS = 1800  # the documented example: exp = now + 30 min, nbf = now - 5 s

# The documented service codes (General Info → Error Code), in plain words.
KLING_CODES: dict[int, str] = {
    1000: "authentication failed",
    1001: "the Authorization header is empty",
    1002: "the Authorization token is invalid",
    1003: "the Authorization token is not yet valid (check this machine's clock)",
    1004: "the Authorization token has expired",
    1100: "the Kling account has a problem",
    1101: "the Kling account is in arrears",
    1102: "the Kling resource pack is used up or expired",
    1103: "the Kling account may not use this API or model",
    1200: "invalid request parameters",
    1201: "an invalid parameter (a wrong key or an illegal value)",
    1202: "the request method is invalid",
    1203: "the requested resource, such as the model, does not exist",
    1300: "a Kling platform policy was triggered",
    1301: "Kling's content security policy refused the input",
    1302: "requests are too fast for Kling's rate limit",
    1303: "too many tasks at once for the Kling resource pack",
    1304: "Kling's IP whitelist policy refused this machine",
    5000: "Kling had an internal error",
    5001: "Kling is temporarily unavailable (maintenance)",
    5002: "Kling timed out (a backlog)",
}
_RATE_LIMITS = {1302, 1303}

_STATES = {
    "submitted": TaskState.QUEUED,
    "processing": TaskState.RUNNING,
    "succeed": TaskState.SUCCEEDED,
    "failed": TaskState.FAILED,
}
# task_status_msg of a task Kling's risk control stopped ("triggering the content risk control")
_REFUSAL_WORDS = re.compile(
    r"risk|content|policy|security|sensitive|moderat|inappropriate|violat", re.IGNORECASE
)


def kling_token(access_key: str, secret_key: str, *, now: float) -> str:
    """The API token: a JWT (HS256) issued by the access key, signed with the secret key."""
    issued = int(now)
    claims = {"iss": access_key, "exp": issued + TOKEN_SECONDS, "nbf": issued - 5}
    return jwt.encode(claims, secret_key, algorithm="HS256", headers={"typ": "JWT"})


def response_data(body: Any, what: str) -> dict[str, Any]:
    """``data`` of a ``{code, message, data}`` answer; a mapped error for a non-zero code."""
    if not isinstance(body, dict):
        raise ProviderError("kling", f"{what} answered {type(body).__name__}, not an object")
    code = body.get("code", 0)
    if code != 0:
        raise _code_error(code, body.get("message"), what)
    data = body.get("data")
    if not isinstance(data, dict):
        raise ProviderError("kling", f"{what} answered without data")
    return data


def _code_error(code: Any, message: Any, what: str) -> ProviderError:
    said = str(message).strip() if message else ""
    meaning = KLING_CODES.get(code) if isinstance(code, int) else None
    words = f"{meaning}: {said}" if meaning and said else meaning or said or "no reason given"
    detail = f"{what} failed with code {code}: {words}"
    if code in _RATE_LIMITS:
        return ProviderRateLimited("kling", detail, provider_message=said or meaning)
    if isinstance(code, int) and code >= 5000:
        return ProviderUnavailable("kling", detail, provider_message=said or meaning)
    return ProviderRejected("kling", detail, provider_message=said or meaning)


# What each HTTP status means at Kling (the code table groups its service codes by status).
_HTTP_MEANINGS = {
    401: "Kling did not accept the token made from KLING_ACCESS_KEY and KLING_SECRET_KEY "
    "(codes 1000-1004)",
    403: "the Kling account may not use this API or model (code 1103)",
    404: "Kling does not know this model, method or task (codes 1202-1203)",
    400: "Kling refused the request: invalid parameters or a platform policy such as content "
    "security (codes 1200-1201, 1300-1301)",
}


def _answer_code(response: httpx.Response) -> int | None:
    """The ``code`` of an error answer's envelope; None if it has none."""
    try:
        body = response.json()
    except (ValueError, httpx.ResponseNotRead):
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def retryable(response: httpx.Response) -> bool:
    """Whether a 429 or 5xx answer is worth retrying: not when its code is one of Kling's
    1xxx service codes other than the rate limits (1302, 1303), such as an account in arrears
    (1101) or a resource pack used up (1102), which Kling also sends with HTTP 429."""
    code = _answer_code(response)
    return code is None or not 1000 <= code < 5000 or code in _RATE_LIMITS


def explained(exc: ProviderRejected) -> ProviderRejected:
    """A rejection reworded with what its HTTP status, or else its code, means at Kling."""
    reason = exc.provider_message or "no reason given"
    meaning = _HTTP_MEANINGS.get(exc.status or 0)
    answer = exc.__cause__.response if isinstance(exc.__cause__, httpx.HTTPStatusError) else None
    code = _answer_code(answer) if answer is not None else None
    if meaning is None and code in KLING_CODES:
        # a 429 or 5xx that retrying will not change (see retryable)
        return ProviderRejected(
            "kling",
            f"{KLING_CODES[code]}: {reason} (code {code}, HTTP {exc.status})",
            status=exc.status,
            provider_message=exc.provider_message,
        )
    return ProviderRejected(
        "kling",
        f"{meaning or 'Kling rejected the request'}: {reason} (HTTP {exc.status})",
        status=exc.status,
        provider_message=exc.provider_message,
    )


def task_status(data: Mapping[str, Any]) -> TaskStatus | None:
    """A task's status from a query ``data`` or a callback body; None if it is not one."""
    task_id = data.get("task_id")
    state = _STATES.get(str(data.get("task_status", "")))
    if task_id in (None, "") or isinstance(task_id, bool) or state is None:
        return None
    message = data.get("task_status_msg")
    reason = str(message).strip() if message else None
    if state is TaskState.FAILED:
        return TaskStatus(
            task_id=str(task_id),
            state=state,
            error=reason or "Kling gave no reason",
            refused=bool(reason and _REFUSAL_WORDS.search(reason)),
        )
    if state is not TaskState.SUCCEEDED:
        return TaskStatus(task_id=str(task_id), state=state)
    result = data.get("task_result")
    videos = result.get("videos") if isinstance(result, Mapping) else None
    for video in videos if isinstance(videos, list) else []:
        if isinstance(video, Mapping) and isinstance(video.get("url"), str) and video["url"]:
            return TaskStatus(
                task_id=str(task_id),
                state=state,
                result_url=video["url"],
                duration=_seconds(video.get("duration")),
            )
    return TaskStatus(
        task_id=str(task_id),
        state=TaskState.FAILED,
        error="Kling finished the task without a video",
    )


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None
