"""The provider events repository in memory: callbacks recorded once per (provider, event id)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from pipeline.store.memory.state import ProviderEventRow, State, check, jsonb

__all__ = ["MemoryProviderEvents"]


class MemoryProviderEvents:
    """The provider events repository in memory; ``conn`` arguments are ignored."""

    def __init__(self, st: State) -> None:
        self._st = st

    def record(
        self,
        conn: object = None,
        *,
        provider: str,
        event_id: str,
        payload: Mapping[str, Any],
        subject: str | None = None,
        occurred_at: datetime | None = None,
        job_id: UUID | None = None,
    ) -> bool:
        """Records the event once per (provider, event id): True the first time."""
        table = "provider_events"
        check(1 <= len(provider) <= 100, table, "provider_events_provider_check")
        check(1 <= len(event_id) <= 255, table, "provider_events_event_id_check")
        ok = subject is None or 1 <= len(subject) <= 255
        check(ok, table, "provider_events_subject_check")
        body = jsonb(dict(payload))
        with self._st.lock:
            if any(
                e.provider == provider and e.event_id == event_id for e in self._st.provider_events
            ):
                return False
            event = ProviderEventRow(
                self._st.serial(table), provider, event_id, body, subject, occurred_at, job_id
            )
            self._st.provider_events.append(event)
            return True

    def mark_processed(self, conn: object = None, *, provider: str, event_id: str) -> bool:
        """Marks the event handled; False if already marked or never recorded."""
        with self._st.lock:
            for event in self._st.provider_events:
                if event.provider == provider and event.event_id == event_id:
                    if event.processed_at is not None:
                        return False
                    event.processed_at = self._st.now()
                    return True
            return False

    def task_callbacks(self, *, provider: str, subject: str, job_id: UUID) -> list[dict[str, Any]]:
        """The payloads recorded for one task of one job, oldest first."""
        with self._st.lock:
            return [
                jsonb(e.payload)
                for e in self._st.provider_events
                if (e.provider, e.subject, e.job_id) == (provider, subject, job_id)
                and isinstance(e.payload, dict)
            ]
