"""The provider events repository: callbacks from generative providers, recorded once per
(provider, event id) under the task and job they concern, marked when handled, and read back by
the job's worker."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from psycopg.types.json import Jsonb

from pipeline.store.database import Connection, Store
from pipeline.store.queries import values

__all__ = ["ProviderEventRepository", "ProviderEvents"]


class ProviderEventRepository(Protocol):
    """Inbound provider events."""

    def record(
        self,
        conn: Connection | None = None,
        *,
        provider: str,
        event_id: str,
        payload: Mapping[str, Any],
        subject: str | None = None,
        occurred_at: datetime | None = None,
        job_id: UUID | None = None,
    ) -> bool: ...
    def mark_processed(
        self, conn: Connection | None = None, *, provider: str, event_id: str
    ) -> bool: ...
    def task_callbacks(
        self, *, provider: str, subject: str, job_id: UUID
    ) -> list[dict[str, Any]]: ...


class ProviderEvents:
    """The provider events repository on PostgreSQL (service transactions: no tenant calls)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def record(
        self,
        conn: Connection | None = None,
        *,
        provider: str,
        event_id: str,
        payload: Mapping[str, Any],
        subject: str | None = None,
        occurred_at: datetime | None = None,
        job_id: UUID | None = None,
    ) -> bool:
        """Records a provider's event once: True the first time, False for a duplicate.

        Pass ``conn`` (a service transaction) to record in the same transaction as the handler's
        state change, so a crash between them cannot mark an event seen but unhandled.
        ``subject`` is the provider task the event is about and ``occurred_at`` when it was
        sent (or received); ``job_id`` is the job the callback was issued for (its worker reads
        only its own callbacks, :meth:`task_callbacks`).
        """
        params = {
            "provider": provider,
            "event_id": event_id,
            "payload": Jsonb(dict(payload)),
            "subject": subject,
            "occurred_at": occurred_at,
            "job_id": job_id,
        }
        with self._store.service(conn) as tx:
            return bool(values(tx, "providers/event_record", params))

    def mark_processed(
        self, conn: Connection | None = None, *, provider: str, event_id: str
    ) -> bool:
        """Marks the event handled; False if it was already marked or never recorded."""
        params = {"provider": provider, "event_id": event_id}
        with self._store.service(conn) as tx:
            return bool(values(tx, "providers/event_mark_processed", params))

    def task_callbacks(self, *, provider: str, subject: str, job_id: UUID) -> list[dict[str, Any]]:
        """The payloads recorded for one provider task of one job, oldest first."""
        params = {"provider": provider, "subject": subject, "job_id": job_id}
        with self._store.as_service() as conn:
            payloads = values(conn, "providers/task_callbacks", params)
        return [dict(p) for p in payloads if isinstance(p, dict)]
