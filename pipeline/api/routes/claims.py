"""Generation claims for containers without the database (a render on Modal): they claim a paid
generation here before paying for it, so that of the jobs asking for the same asset at once,
in any container, one pays (``pipeline.claims``).

- ``POST /v1/claims/{key}`` ``{"owner", "lease_seconds"}``: take the claim → ``{"held": bool}``
- ``POST /v1/claims/{key}/lease`` ``{"owner", "lease_seconds"}``: renew the holder's lease
- ``POST /v1/claims/{key}/done`` ``{"owner"}``: the asset is in the shared cache
- ``POST /v1/claims/{key}/failed`` ``{"owner", "error"}``: release it for another to try

``key`` is a cache key (64 lower-case hex digits). The caller sends its storage grant as
``X-Reelforge-Grant``; a grant may claim a key when it may write that key's entry in the shared
provider cache (``cache/providers/<key>.json``): the claim is the promise to write it, and a
grant that can write the cache has more power than one that claims.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from pipeline.api.deps import GrantHeader, ReposDep, SettingsDep, storage_grant
from pipeline.claims import KEY_PATTERN, MAX_ERROR_CHARS, MAX_LEASE_SECONDS, MAX_OWNER_CHARS
from pipeline.providers.cache import SHARED_PREFIX

__all__ = ["router"]

Key = Annotated[str, Path(pattern=KEY_PATTERN, description="the asset's cache key")]
Owner = Annotated[str, Field(min_length=1, max_length=MAX_OWNER_CHARS)]


class _Lease(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    owner: Owner
    lease_seconds: int = Field(ge=1, le=MAX_LEASE_SECONDS)


class _Done(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    owner: Owner


class _Failed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    owner: Owner
    error: str = Field(default="", max_length=MAX_ERROR_CHARS)


class Held(BaseModel):
    model_config = ConfigDict(frozen=True)

    held: bool


def _claimable(key: Key, settings: SettingsDep, grant: GrantHeader = None) -> None:
    """403 unless the caller's grant may write ``key``'s entry in the shared provider cache
    (checked before the body is read)."""
    if not storage_grant(grant, settings).can_write(f"{SHARED_PREFIX}{key}.json"):
        raise HTTPException(403, "the storage grant does not cover the shared provider cache")


# Not API operations: only reelforge's own render containers call them.
router = APIRouter(prefix="/v1/claims", include_in_schema=False, dependencies=[Depends(_claimable)])


@router.post("/{key}")
def acquire(key: Key, body: _Lease, repos: ReposDep) -> Held:
    return Held(held=repos.claims.acquire(key, owner=body.owner, lease_seconds=body.lease_seconds))


@router.post("/{key}/lease")
def renew(key: Key, body: _Lease, repos: ReposDep) -> Held:
    return Held(held=repos.claims.renew(key, owner=body.owner, lease_seconds=body.lease_seconds))


@router.post("/{key}/done")
def finish(key: Key, body: _Done, repos: ReposDep) -> Held:
    return Held(held=repos.claims.finish(key, owner=body.owner))


@router.post("/{key}/failed")
def fail(key: Key, body: _Failed, repos: ReposDep) -> Held:
    return Held(held=repos.claims.fail(key, owner=body.owner, error=body.error))
