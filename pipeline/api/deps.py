"""Dependencies for routes: the settings, store, repositories, the ports factory, the blob store
and the current user, as Annotated aliases."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pipeline.api import api_keys
from pipeline.api.auth import InvalidToken, TokenVerifier
from pipeline.download import DEFAULT_POLICY, DownloadPolicy
from pipeline.settings import Settings
from pipeline.storage import BlobStore
from pipeline.store import Repositories, Store, StoreUnavailable
from pipeline.wiring import PortsFactory, blob_store

__all__ = [
    "BlobsDep",
    "CurrentUser",
    "DownloadsDep",
    "OptionalStoreDep",
    "PortsDep",
    "ReposDep",
    "SettingsDep",
    "StoreDep",
]

# auto_error=False: a missing token is ours to report, as a 401 problem.
_bearer = HTTPBearer(
    auto_error=False,
    description="a Supabase access token (JWT), or an API key (`rf_live_...`, POST /v1/api-keys)",
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


def get_repositories(request: Request) -> Repositories:
    repos: Repositories = request.app.state.repositories
    return repos


def get_ports(request: Request) -> PortsFactory:
    ports: PortsFactory = request.app.state.ports
    return ports


def get_blobs(request: Request) -> BlobStore:
    """``app.state.blobs`` if the app was given one, else the settings' blob store with local
    links under this API's ``/v1/files``."""
    blobs: BlobStore | None = getattr(request.app.state, "blobs", None)
    if blobs is None:
        base_url = str(request.base_url).rstrip("/") + "/v1"
        blobs = blob_store(request.app.state.settings, base_url=base_url)
        request.app.state.blobs = blobs
    return blobs


def get_downloads(request: Request) -> DownloadPolicy:
    """How a brief's URLs are fetched: ``app.state.downloads``, else the SSRF-safe default."""
    policy: DownloadPolicy = getattr(request.app.state, "downloads", None) or DEFAULT_POLICY
    return policy


def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> UUID:
    """The user id of the request's bearer token (a Supabase JWT or an API key, which then
    acts as its user in every way); InvalidToken (401) otherwise."""
    if credentials is None:
        raise InvalidToken("a bearer token is required")
    if api_keys.is_api_key(credentials.credentials):
        return api_keys.authenticate(repos=get_repositories(request), key=credentials.credentials)
    verifier: TokenVerifier = request.app.state.verifier
    return verifier.verify(credentials.credentials)


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
OptionalStoreDep = Annotated[Store | None, Depends(get_optional_store)]
ReposDep = Annotated[Repositories, Depends(get_repositories)]
PortsDep = Annotated[PortsFactory, Depends(get_ports)]
BlobsDep = Annotated[BlobStore, Depends(get_blobs)]
DownloadsDep = Annotated[DownloadPolicy, Depends(get_downloads)]
CurrentUser = Annotated[UUID, Depends(current_user)]
