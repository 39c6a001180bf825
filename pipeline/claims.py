"""Generation claims: which one of the jobs asking for the same paid asset generates it.

A paid generation (a clip, a still, a voice line, a script) is addressed by its cache key
(``pipeline.providers.cache.cache_key``). Before paying, a job claims that key; exactly one
claimant holds a key at a time, under a lease it renews while it works. The holder pays, puts
the asset in the shared cache, then finishes the claim (``done``); the others wait and read the
asset from the cache. A holder that fails releases the claim (``failed``) so another may try;
one that dies stops renewing, and when its lease runs out another takes the claim over.

The claims live where every container of a deployment can reach them: PostgreSQL
(``pipeline.store.claims``; the API's ``/v1/claims`` for containers without the database,
``pipeline.providers.granted_claims``), or a file lock per key for one machine without a
database (``pipeline.providers.local_claims``). ``pipeline.providers.claimant`` waits, renews
and settles on top of this port.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final, Protocol

from pipeline.errors import ReelforgeError

__all__ = [
    "KEY_PATTERN",
    "MAX_ERROR_CHARS",
    "MAX_LEASE_SECONDS",
    "MAX_OWNER_CHARS",
    "ClaimError",
    "ClaimState",
    "ClaimsUnavailable",
    "GenerationClaims",
    "is_claim_key",
]

KEY_PATTERN: Final = r"^[0-9a-f]{64}$"  # a cache key: sha256, lower-case hex
MAX_OWNER_CHARS: Final = 200
MAX_ERROR_CHARS: Final = 1000
MAX_LEASE_SECONDS: Final = 3600
_KEY = re.compile(KEY_PATTERN)


def is_claim_key(key: str) -> bool:
    return bool(_KEY.match(key))


class ClaimState(StrEnum):
    PENDING = "pending"  # held by its owner until its lease runs out
    DONE = "done"  # the asset is in the shared cache
    FAILED = "failed"  # its owner gave up; anyone may claim it again


class ClaimError(ReelforgeError):
    """A generation claim could not be made."""


class ClaimsUnavailable(ClaimError):
    """The generation claims cannot be reached now; trying again later may succeed."""


class GenerationClaims(Protocol):
    """Claims on paid generations, keyed by cache key; ``owner`` names one claim attempt (a
    random token: two attempts of one job are two owners).

    Every method is idempotent for its owner, so a call retried after a lost answer does no
    harm. Leases are whole seconds, 1 to ``MAX_LEASE_SECONDS``.
    """

    def acquire(self, key: str, *, owner: str, lease_seconds: int) -> bool:
        """True if ``owner`` now holds ``key``: it was unclaimed, finished, failed, already
        ``owner``'s, or its holder's lease ran out. False while another owner holds it."""
        ...

    def renew(self, key: str, *, owner: str, lease_seconds: int) -> bool:
        """Extends ``owner``'s lease to ``lease_seconds`` from now; False if it no longer
        holds ``key`` (another took it over after the lease ran out)."""
        ...

    def finish(self, key: str, *, owner: str) -> bool:
        """Marks ``owner``'s claim done (its asset is in the shared cache); False if it no
        longer holds ``key``."""
        ...

    def fail(self, key: str, *, owner: str, error: str) -> bool:
        """Releases ``owner``'s claim as failed (``error`` kept for the record, cut to
        ``MAX_ERROR_CHARS``), so another may claim it at once; False if it no longer held it."""
        ...
