"""The users repository in memory: the known user ids, as rows of ``auth.users``."""

from __future__ import annotations

from uuid import UUID

from pipeline.store.memory.state import State

__all__ = ["MemoryUsers"]


class MemoryUsers:
    """The users repository in memory: the known user ids (``auth.users``)."""

    def __init__(self, st: State) -> None:
        self._st = st

    def ensure_local(self, conn: object = None, *, user_id: UUID, email: str) -> None:
        """Adds the user unless present (``conn`` is ignored)."""
        with self._st.lock:
            self._st.users.setdefault(user_id, email)
