"""Provider callbacks that carry no Standard Webhooks signature (Kling, fal, HeyGen).

Those providers call back the URL they were given and sign nothing reelforge can check, so the
URL itself carries the proof: ``?job_id=<job>&token=<HMAC-SHA256(secret, "provider:job")>`` with
the provider's ``REELFORGE_PROVIDER_SECRET_<NAME>``. A callback with a valid token is recorded in
``provider_events`` under the task it is about (``subject``) and its job, where
:class:`StoreInbox` finds it for that job's worker only. The event id is a hash of the job and
the body: a redelivered callback is the same event, recorded once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from pipeline.store.providers import ProviderEventRepository
from pipeline.webhooks.signing import secret_key

__all__ = ["StoreInbox", "callback_token", "event_id_for", "task_ref", "verify_token"]


def callback_token(secret: str, provider: str, job_id: str) -> str:
    mac = hmac.new(secret_key(secret), f"{provider}:{job_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def verify_token(secrets: tuple[str, ...], provider: str, job_id: str, token: str) -> bool:
    return any(hmac.compare_digest(callback_token(s, provider, job_id), token) for s in secrets)


def task_ref(payload: Mapping[str, Any]) -> str | None:
    """The provider task a callback is about, from the shapes reelforge's providers send:
    Kling ``task_id`` (top level or under ``data``), fal ``request_id``, HeyGen
    ``event_data.video_id``."""
    candidates: list[object] = [payload.get("task_id"), payload.get("request_id")]
    for nested in ("data", "event_data"):
        inner = payload.get(nested)
        if isinstance(inner, Mapping):
            candidates += [inner.get("task_id"), inner.get("video_id"), inner.get("request_id")]
    for value in candidates:
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)[:255]
    return None


def event_id_for(body: bytes, job_id: UUID) -> str:
    """The event id of an unsigned callback: its job and body (a redelivery is the same event)."""
    return "body_" + hashlib.sha256(job_id.bytes + body).hexdigest()


class StoreInbox:
    """Callbacks the service recorded for one job, read back by its worker waiting on a task."""

    def __init__(self, events: ProviderEventRepository, job_id: UUID) -> None:
        self.events = events
        self.job_id = job_id

    def payloads(self, provider: str, task_id: str) -> list[dict[str, Any]]:
        """The callbacks recorded for ``task_id`` of this job, oldest first."""
        return self.events.task_callbacks(provider=provider, subject=task_id, job_id=self.job_id)
