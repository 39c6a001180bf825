"""Dependencies for routes: the settings, store, repositories, the blob store, the media desk,
the current user, the admin caller and a container's storage grant, as Annotated aliases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from pipeline.api import api_keys
from pipeline.api.accounts import KnownAccounts
from pipeline.api.auth import InvalidToken, TokenVerifier, admin_token_matches
from pipeline.api.media_desk import MediaDesk
from pipeline.settings import Settings
from pipeline.storage import BlobStore
from pipeline.storage.grant import GRANT_PURPOSE, Grant, InvalidGrant, verify_grant
from pipeline.storage.granted import GRANT_HEADER
from pipeline.store import Repositories, Store, StoreUnavailable
from pipeline.wiring import signing_key

__all__ = [
    "AdminCaller",
    "BlobsDep",
    "CurrentUser",
    "GrantHeader",
    "MediaDeskDep",
    "OptionalStoreDep",
    "Readiness",
    "ReadinessDep",
    "ReposDep",
    "SettingsDep",
    "StoreDep",
    "storage_grant",
]

# auto_error=False: a missing token is ours to report, as a 401 problem.
_bearer = HTTPBearer(
    auto_error=False,
    description="a Supabase access token (JWT), or an API key (`rf_live_...`, POST /v1/api-keys)",
)
_admin_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="AdminToken",
    description="the service's admin token (REELFORGE_ADMIN_TOKEN); a user's JWT is refused",
)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> Store:
    """The app's database; StoreUnavailable (503) for an app built on repositories alone."""
    store: Store | None = request.app.state.store
    if store is None:
        raise StoreUnavailable("this app has no database, only the repositories it was given")
    return store


def get_optional_store(request: Request) -> Store | None:
    """The app's database, or None for an app built on repositories alone (in memory)."""
    store: Store | None = request.app.state.store
    return store


# What /ready asks beyond the database: None when ready, else why not.
Readiness = Callable[[], str | None]


def get_readiness(request: Request) -> Readiness | None:
    """The app's readiness check beyond the database (``reelforge serve``'s worker pool)."""
    readiness: Readiness | None = request.app.state.readiness
    return readiness


def get_repositories(request: Request) -> Repositories:
    repos: Repositories = request.app.state.repositories
    return repos


def get_blobs(request: Request) -> BlobStore:
    """The app's blob store: its links come from the settings' public URL, never from the
    request (a forged ``Host`` header changes nothing)."""
    blobs: BlobStore = request.app.state.blobs
    return blobs


def get_media_desk(request: Request) -> MediaDesk:
    """Where uploads are checked, a brief's URLs fetched and its scripts written
    (``app.state.media_desk``): in this process, or in unprivileged Modal functions."""
    desk: MediaDesk = request.app.state.media_desk
    return desk


def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> UUID:
    """The user id of the request's bearer token (a Supabase JWT or an API key, which then
    acts as its user in every way); InvalidToken (401) otherwise. A JWT's user is admitted
    (``accounts``): provisioned on first sight where reelforge owns the users, else 403."""
    if credentials is None:
        raise InvalidToken("a bearer token is required")
    repos = get_repositories(request)
    if api_keys.is_api_key(credentials.credentials):
        return api_keys.authenticate(repos=repos, key=credentials.credentials)
    verifier: TokenVerifier = request.app.state.verifier
    known: KnownAccounts = request.app.state.known_accounts
    return known.admit(repos, verifier.identify(credentials.credentials))


def admin_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_admin_bearer)],
) -> None:
    """Lets the service's operator through: the bearer token must be REELFORGE_ADMIN_TOKEN (or
    one of them while it rotates). No token configured: the admin routes are off (404)."""
    settings: Settings = request.app.state.settings
    tokens = [t.get_secret_value() for t in settings.billing.admin_tokens]
    if not tokens:
        raise HTTPException(404, "the admin API is off: REELFORGE_ADMIN_TOKEN is not set")
    if credentials is None or not admin_token_matches(credentials.credentials, tokens):
        raise InvalidToken("the admin token is missing or wrong")


def storage_grant(token: str | None, settings: Settings) -> Grant:
    """The storage grant a container without secrets sent (``X-Reelforge-Grant``), checked
    against the service's signing key; 403 when it is missing, malformed, forged or expired."""
    if token is None:
        raise HTTPException(403, "a storage grant is required")
    try:
        return verify_grant(token, signing_key(settings, GRANT_PURPOSE))
    except InvalidGrant as exc:
        raise HTTPException(403, f"the storage grant is {exc.detail}") from None


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
OptionalStoreDep = Annotated[Store | None, Depends(get_optional_store)]
ReadinessDep = Annotated[Readiness | None, Depends(get_readiness)]
ReposDep = Annotated[Repositories, Depends(get_repositories)]
BlobsDep = Annotated[BlobStore, Depends(get_blobs)]
MediaDeskDep = Annotated[MediaDesk, Depends(get_media_desk)]
CurrentUser = Annotated[UUID, Depends(current_user)]
AdminCaller = Annotated[None, Depends(admin_caller)]
GrantHeader = Annotated[str | None, Header(alias=GRANT_HEADER)]
