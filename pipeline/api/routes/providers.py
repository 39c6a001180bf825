"""Provider callbacks: ``POST /v1/providers/{name}/callback``, authenticated by a Standard Webhooks
signature instead of a user token, and recorded once per event id.

Secrets. Each provider's ``whsec_`` secret comes from ``REELFORGE_PROVIDER_SECRET_<NAME>`` (NAME
upper case; ``-`` in the URL name is ``_`` in the variable). Several secrets separated by spaces
are all accepted (rotation). The settings read them; :func:`provider_secrets` checks them once
per app (``app.state.provider_secrets``, if given, stands in: tests, or a caller with its own
configuration). A malformed secret fails the request with a 500 (logged).

Checks, in order: unknown provider → 404; missing webhook-id/-timestamp/-signature header,
malformed timestamp, one more than 5 minutes old or in the future, no matching signature (wrong
secret or altered body) → 401 problem naming the reason; a body that is not a JSON object → 400.

Effect (minimal until the provider handlers land): in one service transaction the event is
recorded in ``provider_events`` (deduplicated on ``(provider, webhook-id)``) and, if the callback
is bound to a job and the payload names a task, a ``log`` job event is appended to that job;
then the event is marked processed. Only the callback URL reelforge gave the job's own provider
task binds a job: its ``job_id`` with the service's token for it (:func:`verify_token`). A
``job_id`` inside the payload is never trusted, so a callback cannot write into another job. A duplicate id (a retry, a replay, or the same
event in parallel) returns 200 with ``"duplicate": true`` and changes nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from pipeline.api.deps import ReposDep, SettingsDep, StoreDep
from pipeline.api.errors import problem_responses
from pipeline.api.webhook_models import ProviderCallbackOut
from pipeline.providers.callbacks import event_id_for, task_ref, verify_token
from pipeline.settings import PROVIDER_SECRET_PREFIX
from pipeline.store import Repositories, Store
from pipeline.store.database import Connection
from pipeline.webhooks import InvalidSecret, WebhookRejected, secret_key, verify_inbound

__all__ = [
    "PROVIDER_SECRET_PREFIX",
    "get_provider_secrets",
    "handle_callback",
    "provider_secrets",
    "router",
]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,99}$")
_MESSAGE_CHARS = 500
_MAX_EVENT_ID = 255

router = APIRouter(prefix="/v1/providers", tags=["providers"])


def _key(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def provider_secrets(configured: Mapping[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Provider name (lower case, ``_`` for ``-``) → its secrets, as the settings read them
    from ``REELFORGE_PROVIDER_SECRET_*``; ValueError naming the variable (not the value) when
    one is not ``whsec_`` + base64."""
    found: dict[str, tuple[str, ...]] = {}
    for name, secrets in configured.items():
        for secret in secrets:
            try:
                secret_key(secret)
            except InvalidSecret:
                variable = PROVIDER_SECRET_PREFIX + name.upper()
                raise ValueError(f"{variable} is not a whsec_ secret") from None
        found[_key(name)] = secrets
    return found


def get_provider_secrets(request: Request, settings: SettingsDep) -> Mapping[str, tuple[str, ...]]:
    """``app.state.provider_secrets`` (name → secret or secrets) if given, else the settings'."""
    given: Mapping[str, str | tuple[str, ...]] | None = getattr(
        request.app.state, "provider_secrets", None
    )
    if given is None:
        loaded = provider_secrets(settings.providers.callback_secrets)
        request.app.state.provider_secrets = loaded
        return loaded
    return {_key(n): (s,) if isinstance(s, str) else tuple(s) for n, s in given.items()}


def _now(request: Request) -> datetime:
    """``app.state.clock.now()`` if the app has a clock (tests), else the system time."""
    clock = getattr(request.app.state, "clock", None)
    if clock is None:
        return datetime.now(UTC)
    now: datetime = clock.now()
    return now


ProviderSecrets = Annotated[Mapping[str, tuple[str, ...]], Depends(get_provider_secrets)]
ProviderName = Annotated[
    str, Path(min_length=1, max_length=100, description="the provider, e.g. `fal`")
]


def _job_id(value: object) -> UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return UUID(value)
    except ValueError:
        return None


def _append_job_log(
    repos: Repositories,
    conn: Connection,
    provider: str,
    event_id: str,
    payload: Mapping[str, Any],
    job_id: UUID | None,
) -> int | None:
    task_id = task_ref(payload)
    if job_id is None or task_id is None:
        return None
    message = f"{provider} callback {event_id} for task {task_id}"
    if isinstance(payload.get("status"), str):
        message += f": {payload['status']}"
    return repos.jobs.log_callback(conn, job_id=job_id, message=message[:_MESSAGE_CHARS])


def handle_callback(
    *,
    store: Store,
    repos: Repositories,
    provider: str,
    event_id: str,
    payload: Mapping[str, Any],
    occurred_at: datetime | None,
    job_id: UUID | None = None,
) -> ProviderCallbackOut:
    """Records the event and applies its effect in one transaction; a duplicate does nothing.

    The event's subject is the provider task it is about (:func:`task_ref`), where the worker
    waiting on that task finds it (``StoreInbox``)."""
    subject = task_ref(payload)
    job = job_id
    with store.as_service() as conn:
        first = repos.providers.record(
            conn,
            provider=provider,
            event_id=event_id,
            payload=payload,
            subject=subject,
            occurred_at=occurred_at,
            job_id=job,
        )
        if not first:
            return ProviderCallbackOut(event_id=event_id, duplicate=True)
        job_event_id = _append_job_log(repos, conn, provider, event_id, payload, job_id)
        repos.providers.mark_processed(conn, provider=provider, event_id=event_id)
    return ProviderCallbackOut(event_id=event_id, duplicate=False, job_event_id=job_event_id)


@router.post(
    "/{name}/callback",
    summary="Receive a provider's signed callback",
    description=(
        "Signed with the provider's `whsec_` secret, Standard Webhooks style: headers "
        "`webhook-id`, `webhook-timestamp` (Unix seconds, within 5 minutes) and "
        "`webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`). "
        "A repeated `webhook-id` returns `duplicate: true` and changes nothing."
    ),
    responses=problem_responses(400, 401, 404, 413, 422),
)
async def provider_callback(
    request: Request,
    name: ProviderName,
    store: StoreDep,
    repos: ReposDep,
    secrets: ProviderSecrets,
) -> ProviderCallbackOut:
    key = _key(name)
    if not _NAME.match(key) or key not in secrets:
        raise HTTPException(404, f"no provider {name!r}")
    body = await request.body()
    headers = dict(request.headers)
    now = _now(request)
    token = request.query_params.get("token")
    if "webhook-signature" not in headers and token is not None:
        return await _token_callback(store, repos, key, secrets[key], request, body, token, now)
    rejection: WebhookRejected | None = None
    for secret in secrets[key]:
        try:
            verify_inbound(secret, headers, body, now=now)
        except WebhookRejected as exc:
            rejection = rejection or exc
        else:
            rejection = None
            break
    if rejection is not None:
        raise HTTPException(401, f"webhook rejected: {rejection.reason}")
    payload = _json_object(body)
    job_id = _bound_job(key, secrets[key], request, token)
    event_id = headers["webhook-id"]
    if len(event_id) > _MAX_EVENT_ID:
        raise HTTPException(400, f"webhook-id is longer than {_MAX_EVENT_ID} characters")
    occurred_at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    # The database work is blocking: off the event loop, like FastAPI's sync routes.
    return await run_in_threadpool(
        lambda: handle_callback(
            store=store,
            repos=repos,
            provider=key,
            event_id=event_id,
            payload=payload,
            occurred_at=occurred_at,
            job_id=job_id,
        )
    )


def _bound_job(
    provider: str, secrets: tuple[str, ...], request: Request, token: str | None
) -> UUID | None:
    """The job a signed callback's URL binds it to, or None when the URL names no job."""
    named = request.query_params.get("job_id")
    if named is None and token is None:
        return None
    job_id = _job_id(named)
    if job_id is None:
        raise HTTPException(401, "webhook rejected: job_id is missing or not a UUID")
    if token is None or not verify_token(secrets, provider, str(job_id), token):
        raise HTTPException(401, "webhook rejected: the callback token does not match")
    return job_id


async def _token_callback(
    store: Store,
    repos: Repositories,
    provider: str,
    secrets: tuple[str, ...],
    request: Request,
    body: bytes,
    token: str,
    now: datetime,
) -> ProviderCallbackOut:
    """A callback from a provider that signs nothing (Kling, fal, HeyGen): the URL we gave it
    carries ``job_id`` and a token only the service can make (pipeline/providers/callbacks.py)."""
    job_id = _job_id(request.query_params.get("job_id"))
    if job_id is None:
        raise HTTPException(401, "webhook rejected: job_id is missing or not a UUID")
    if not verify_token(secrets, provider, str(job_id), token):
        raise HTTPException(401, "webhook rejected: the callback token does not match")
    payload = _json_object(body)
    event_id = event_id_for(body, job_id)
    return await run_in_threadpool(
        lambda: handle_callback(
            store=store, repos=repos, provider=provider, event_id=event_id, payload=payload,
            occurred_at=now, job_id=job_id,
        )
    )  # fmt: skip


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise HTTPException(400, "the body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise HTTPException(400, "the body must be a JSON object")
    return payload
