"""The account behind a valid token: admitted once per process for a while, so a token whose
user the database does not have yet is provisioned (where reelforge owns ``auth.users``) or
refused with a 403 in plain words (on Supabase: a user deleted since the token was issued),
never a database constraint's 422 further down."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final
from uuid import UUID

from pipeline.api.auth import Identity
from pipeline.errors import BadInput
from pipeline.store import Repositories

__all__ = ["AccountUnknown", "KnownAccounts"]

# How long an admitted user is taken as known without asking the database again: a user
# deleted meanwhile meets the database's own refusals for at most this long.
KNOWN_SECONDS: Final = 300.0
MAX_KNOWN: Final = 10_000


class AccountUnknown(BadInput):
    """A valid token whose user has no account here (403)."""

    def __init__(self) -> None:
        super().__init__(
            "Authorization",
            "this token is valid, but its user has no account here: the account was deleted, "
            "or the token comes from another project; sign in again",
        )


class KnownAccounts:
    """User ids admitted recently (at most ``MAX_KNOWN``, each for ``KNOWN_SECONDS``)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until: OrderedDict[UUID, float] = OrderedDict()
        self._lock = threading.Lock()

    def admit(self, repos: Repositories, who: Identity) -> UUID:
        """``who``'s user id once the database knows them (:meth:`UserRepository.admit`);
        AccountUnknown when it does not and must not add them."""
        now = self._clock()
        with self._lock:
            until = self._until.get(who.user_id)
            if until is not None and until > now:
                return who.user_id
        if not repos.users.admit(user_id=who.user_id, email=who.email):
            raise AccountUnknown()
        with self._lock:
            self._until[who.user_id] = now + KNOWN_SECONDS
            self._until.move_to_end(who.user_id)
            while len(self._until) > MAX_KNOWN:
                self._until.popitem(last=False)
        return who.user_id
