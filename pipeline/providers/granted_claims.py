"""Generation claims as a container without the database reaches them: the API's
``/v1/claims/{key}`` routes, authorized by the storage grant that lets the container write the
shared provider cache (``pipeline.api.routes.claims``)."""

from __future__ import annotations

import httpx

from pipeline.claims import MAX_ERROR_CHARS, ClaimError, ClaimsUnavailable
from pipeline.storage.granted import GRANT_HEADER

__all__ = ["GrantedClaims"]

_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class GrantedClaims:
    """A GenerationClaims over HTTP with a storage grant (``X-Reelforge-Grant``).

    A network error, a 429 or a 5xx is :class:`ClaimsUnavailable` (the claimant polls again);
    any other refusal (a grant that does not cover the cache, an expired one) is a ClaimError.
    """

    def __init__(self, api_url: str, grant: str, *, client: httpx.Client | None = None) -> None:
        """``api_url``: the service's public base URL (``REELFORGE_PUBLIC_URL``)."""
        self._base = api_url.rstrip("/") + "/v1/claims/"
        self._headers = {GRANT_HEADER: grant}
        self._client = client or httpx.Client(timeout=_TIMEOUT)

    def _post(self, key: str, action: str, body: dict[str, object]) -> bool:
        url = self._base + key + (f"/{action}" if action else "")
        what = f"claim {key[:12]}…{f' ({action})' if action else ''}"
        try:
            response = self._client.post(url, json=body, headers=self._headers)
        except httpx.HTTPError as exc:
            raise ClaimsUnavailable(f"{what}: network error ({type(exc).__name__})") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise ClaimsUnavailable(f"{what}: the API answered {response.status_code}")
        if response.status_code != 200:
            raise ClaimError(
                f"{what}: the API answered {response.status_code}: {response.text[:200]}"
            )
        return bool(response.json()["held"])

    def acquire(self, key: str, *, owner: str, lease_seconds: int) -> bool:
        return self._post(key, "", {"owner": owner, "lease_seconds": lease_seconds})

    def renew(self, key: str, *, owner: str, lease_seconds: int) -> bool:
        return self._post(key, "lease", {"owner": owner, "lease_seconds": lease_seconds})

    def finish(self, key: str, *, owner: str) -> bool:
        return self._post(key, "done", {"owner": owner})

    def fail(self, key: str, *, owner: str, error: str) -> bool:
        return self._post(key, "failed", {"owner": owner, "error": error[:MAX_ERROR_CHARS]})

    def close(self) -> None:
        self._client.close()
