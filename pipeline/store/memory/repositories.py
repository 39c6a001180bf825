"""Every in-memory repository over one set of tables: the fake ``Repositories``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from uuid import UUID

from pipeline.store.memory.analytics import MemoryAnalytics
from pipeline.store.memory.api_keys import MemoryApiKeys
from pipeline.store.memory.billing import MemoryBilling
from pipeline.store.memory.claims import MemoryClaims
from pipeline.store.memory.credits import MemoryCredits
from pipeline.store.memory.idempotency import MemoryIdempotency
from pipeline.store.memory.jobs import MemoryJobs
from pipeline.store.memory.projects import MemoryProjects
from pipeline.store.memory.providers import MemoryProviderEvents
from pipeline.store.memory.state import Clock, State, utc_now
from pipeline.store.memory.uploads import MemoryUploads
from pipeline.store.memory.users import MemoryUsers
from pipeline.store.memory.webhooks import MemoryWebhooks
from pipeline.store.repositories import Repositories

__all__ = ["MemoryRepositories"]


@dataclass(frozen=True, init=False)
class MemoryRepositories(Repositories):
    """Every repository in memory, sharing one set of tables, one lock and ``clock``.

    Users must exist, as in PostgreSQL: add them with ``add_user`` (or ``users.ensure_local``,
    or ``users.admit``, which adds a token's user unless ``supabase``: then, as on a Supabase
    project, only Supabase Auth adds users).
    """

    clock: Clock = field(repr=False, compare=False)
    _state: State = field(repr=False, compare=False)

    def __init__(self, *, clock: Clock | None = None, supabase: bool = False) -> None:
        st = State(clock or utc_now)
        analytics = MemoryAnalytics(st)
        credits = MemoryCredits(st)
        members: dict[str, object] = {
            "projects": MemoryProjects(st),
            "jobs": MemoryJobs(st, analytics=analytics),
            "credits": credits,
            "webhooks": MemoryWebhooks(st),
            "providers": MemoryProviderEvents(st),
            "analytics": analytics,
            "idempotency": MemoryIdempotency(st),
            "users": MemoryUsers(st, credits, owns_users=not supabase),
            "billing": MemoryBilling(st, credits),
            "uploads": MemoryUploads(st),
            "api_keys": MemoryApiKeys(st),
            "claims": MemoryClaims(st),
            "clock": st.clock,
            "_state": st,
        }
        for name, value in members.items():
            object.__setattr__(self, name, value)

    def add_user(self, user_id: UUID | None = None, *, email: str | None = None) -> UUID:
        """A known user (a new id unless given), as a row in ``auth.users`` would be: a new one
        gets the starting grant, as the insert trigger gives it."""
        user_id = user_id or uuid.uuid4()
        users = self.users
        assert isinstance(users, MemoryUsers)
        users.insert(user_id, email)
        return user_id
