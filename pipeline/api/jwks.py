"""Supabase Auth's public signing keys, fetched from the project's JWKS endpoint
(``SUPABASE_URL/auth/v1/.well-known/jwks.json``) and cached.

Supabase rotates keys by publishing the next one (standby) before it signs with it, and serves
the set with a 10-minute cache lifetime. So: the set is fetched on first use, and again when it
is older than ``max_age`` (a revoked key stops being accepted within that time) or when a token
names a key it does not hold (a rotation since the last fetch). A token's ``kid`` is chosen by
whoever sends it, so refetches are rate-limited: at most one per ``min_interval``, whatever the
outcome, however many forged kids arrive. A failed fetch keeps the keys already held.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Final

import httpx
import jwt

__all__ = ["ASYMMETRIC", "RemoteJwks", "usable_keys"]

ASYMMETRIC: Final = frozenset({"ES256", "RS256"})
_log = logging.getLogger(__name__)


def usable_keys(jwk_set: dict[str, Any]) -> dict[str, jwt.PyJWK]:
    """The set's public ES256/RS256 verification keys by ``kid``; any other key is skipped (a
    set may carry keys of other kinds or uses, and one bad key must not hide the rest)."""
    keys: dict[str, jwt.PyJWK] = {}
    for data in jwk_set.get("keys") or []:
        if not isinstance(data, dict) or not isinstance(data.get("kid"), str) or "d" in data:
            continue
        if data.get("use", "sig") != "sig" or "verify" not in data.get("key_ops", ["verify"]):
            continue
        try:
            key = jwt.PyJWK(data)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            continue
        if key.algorithm_name in ASYMMETRIC:
            keys[data["kid"]] = key
    return keys


class RemoteJwks:
    """The keys at ``url``, fetched through ``transport`` (the network by default), cached.

    ``clock`` is monotonic seconds. Safe to share between threads: one fetch at a time.
    """

    def __init__(
        self,
        url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        min_interval: float = 30.0,
        max_age: float = 600.0,
        timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.fetches = 0
        self._transport = transport
        self._clock = clock
        self._min_interval = min_interval
        self._max_age = max_age
        self._timeout = timeout
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._tried_at: float | None = None  # last attempt, successful or not
        self._lock = threading.Lock()

    def key(self, kid: str) -> jwt.PyJWK | None:
        """The key named ``kid``, refetching the set if it is stale or lacks it (rate-limited)."""
        with self._lock:
            now = self._clock()
            stale = self._fetched_at is None or now - self._fetched_at >= self._max_age
            if (stale or kid not in self._keys) and self._may_fetch(now):
                self._refresh(now)
            return self._keys.get(kid)

    def _may_fetch(self, now: float) -> bool:
        return self._tried_at is None or now - self._tried_at >= self._min_interval

    def _refresh(self, now: float) -> None:
        self._tried_at = now
        self.fetches += 1
        try:
            with httpx.Client(
                transport=self._transport, timeout=self._timeout, follow_redirects=False
            ) as client:
                response = client.get(self.url, headers={"Accept": "application/json"})
                response.raise_for_status()
                data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            _log.warning("cannot fetch the JWKS from %s: %s; keeping %d keys", self.url, exc,
                         len(self._keys))  # fmt: skip
            return
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            _log.warning("the JWKS from %s is not a JWK set; keeping %d keys", self.url,
                         len(self._keys))  # fmt: skip
            return
        self._keys = usable_keys(data)
        self._fetched_at = now
