"""The users repository in memory: the known user ids, as rows of ``auth.users``, and the
starting grant the insert trigger of migration 0012 gives each new one."""

from __future__ import annotations

from uuid import UUID

from pipeline.store.memory.credits import MemoryCredits
from pipeline.store.memory.state import State

__all__ = ["MemoryUsers"]


class MemoryUsers:
    """The users repository in memory: the known user ids (``auth.users``)."""

    def __init__(self, st: State, credits: MemoryCredits, *, owns_users: bool = True) -> None:
        self._st = st
        self._credits = credits
        self._owns_users = owns_users

    def admit(self, *, user_id: UUID, email: str | None) -> bool:
        """Known, or added where the users are ours (``owns_users``: False plays Supabase,
        whose Auth service alone adds users)."""
        with self._st.lock:
            if user_id in self._st.users:
                return True
        if not self._owns_users:
            return False
        self.insert(user_id, email and email[:320])
        return True

    def insert(self, user_id: UUID, email: str | None) -> None:
        """``insert into auth.users ... on conflict do nothing``: a new user gets the starting
        grant in the same step (the trigger), an existing one nothing."""
        with self._st.lock:
            if user_id in self._st.users:
                return
            self._st.users[user_id] = email
            self._credits.grant_starting(user_id)

    def ensure_local(self, conn: object = None, *, user_id: UUID, email: str) -> None:
        """Adds the user unless present (``conn`` is ignored)."""
        self.insert(user_id, email)
