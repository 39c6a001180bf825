"""The idempotency keys repository in memory: a key claimed, completed or released per user."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from pipeline.store.memory.state import KeyRow, State, check, foreign_key, jsonb
from pipeline.store.models import IdempotencyRecord, KeyClaim

__all__ = ["MemoryIdempotency"]


class MemoryIdempotency:
    """The idempotency keys repository in memory; keys are scoped by user."""

    def __init__(self, st: State) -> None:
        self._st = st

    def claim(
        self,
        *,
        user_id: UUID,
        key: str,
        request_hash: str,
        lock_seconds: int,
        retention_seconds: int,
    ) -> KeyClaim:
        """Takes a new key, one past the retention, or a running one of the same request whose
        lock ran out; else the key's unexpired record."""
        table = "idempotency_keys"
        check(1 <= len(key) <= 255, table, "idempotency_keys_key_check")
        with self._st.lock:
            foreign_key(user_id in self._st.users, table, "idempotency_keys_user_id_fkey")
            now = self._st.now()
            retained = now - timedelta(seconds=retention_seconds)
            found = self._st.keys.get((user_id, key))
            takeover = found is not None and (
                found.created_at < retained
                or (
                    found.state == "running"
                    and found.locked_until is not None
                    and found.locked_until < now
                    and found.request_hash == request_hash
                )
            )
            if found is None or takeover:
                locked_until = now + timedelta(seconds=lock_seconds)
                self._st.keys[(user_id, key)] = KeyRow(request_hash, now, locked_until)
                return KeyClaim(claimed=True)
            record = IdempotencyRecord(
                request_hash=found.request_hash,
                state=found.state,
                response_status=found.status,
                response_body=jsonb(found.body),
            )
            return KeyClaim(claimed=False, record=record)

    def complete(self, *, user_id: UUID, key: str, status: int, body: Any) -> None:
        """Stores the response of a running claim (nothing for a key not running)."""
        body = jsonb(body)
        with self._st.lock:
            found = self._st.keys.get((user_id, key))
            if found is None or found.state != "running":
                return
            check(
                100 <= status <= 599, "idempotency_keys", "idempotency_keys_response_status_check"
            )
            found.state, found.status, found.body, found.locked_until = "done", status, body, None

    def release(self, *, user_id: UUID, key: str) -> None:
        """Drops a running claim; a finished key stays."""
        with self._st.lock:
            found = self._st.keys.get((user_id, key))
            if found is not None and found.state == "running":
                del self._st.keys[(user_id, key)]

    def cleanup(self, *, retention_seconds: int) -> int:
        """Deletes keys past the retention; how many."""
        with self._st.lock:
            retained = self._st.now() - timedelta(seconds=retention_seconds)
            old = [k for k, row in self._st.keys.items() if row.created_at < retained]
            for k in old:
                del self._st.keys[k]
            return len(old)
