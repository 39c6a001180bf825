"""The webhook outbox in memory: ``enqueue_webhook`` and the body the job-state trigger writes,
shared by the jobs and webhooks repositories."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from pipeline.store.errors import UnknownUser
from pipeline.store.memory.state import DeliveryRow, State, argument, check, json_time, jsonb
from pipeline.store.models import DeliveryStatus, Job, JobState, WebhookDelivery

__all__ = ["enqueue_webhook", "job_payload"]

_EVENT_TYPE = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*")
_WEBHOOK_ID = re.compile(r"[A-Za-z0-9_.:-]{1,200}")


def enqueue_webhook(
    st: State,
    user_id: UUID,
    event_type: str,
    payload: Mapping[str, Any],
    webhook_id: str | None,
    now: datetime,
) -> list[WebhookDelivery]:
    """``enqueue_webhook``: one pending delivery per subscribed enabled endpoint of the user; a
    webhook id an endpoint already has adds nothing for it."""
    if user_id not in st.users:
        raise UnknownUser("enqueue_webhook", f"unknown user {user_id}", sqlstate="RF002")
    argument(
        _EVENT_TYPE.fullmatch(event_type) is not None and len(event_type) <= 100,
        "enqueue_webhook",
        f"event type must be dotted lower-case words, not {event_type}",
    )
    body = jsonb(dict(payload))
    argument(
        len(json.dumps(body)) <= 262144,
        "enqueue_webhook",
        "payload must be JSON of at most 256 KiB",
    )
    message_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    made = []
    for endpoint in list(st.endpoints.values()):
        row = endpoint.row
        if row.user_id != user_id or not row.enabled:
            continue
        if row.events and event_type not in row.events:
            continue
        ok = _WEBHOOK_ID.fullmatch(message_id) is not None
        check(ok, "webhook_deliveries", "webhook_deliveries_webhook_id_check")
        if any(
            d.row.endpoint_id == row.id and d.row.webhook_id == message_id
            for d in st.deliveries.values()
        ):
            continue
        delivery = WebhookDelivery(
            id=uuid.uuid4(),
            webhook_id=message_id,
            user_id=user_id,
            endpoint_id=row.id,
            event_type=event_type,
            payload=body,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            last_status_code=None,
            last_error=None,
            created_at=now,
            delivered_at=None,
        )
        st.deliveries[delivery.id] = DeliveryRow(delivery)
        made.append(delivery.model_copy(deep=True))
    return made


def job_payload(st: State, job: Job) -> dict[str, Any]:
    """The body the ``jobs_state_webhook`` trigger builds (migration 0011): a delivered job's
    outputs by format, with their blob keys."""
    renders = sorted(
        (r.render for r in st.renders if r.job_id == job.id), key=lambda r: r.format
    )
    outputs = [
        {"format": r.format, "width": r.width, "height": r.height, "duration_s": r.duration_s,
         "key": r.path}
        for r in renders
    ] if job.state == JobState.DELIVERED else []  # fmt: skip
    return {
        "job_id": str(job.id),
        "project_id": None if job.project_id is None else str(job.project_id),
        "state": str(job.state),
        "error": job.error,
        "attempts": job.attempts,
        "finished_at": json_time(job.finished_at),
        "job_url": f"/v1/jobs/{job.id}",
        "outputs": outputs,
    }
