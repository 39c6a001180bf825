"""Dependencies for routes: the settings, store, repositories, script ports and the current user,
as Annotated aliases."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pipeline.api.auth import InvalidToken, TokenVerifier
from pipeline.api.projects import ScriptPorts
from pipeline.api.settings import ApiSettings
from pipeline.store import Repositories, Store

__all__ = ["CurrentUser", "PortsDep", "ReposDep", "SettingsDep", "StoreDep", "UploadsDep"]

# auto_error=False: a missing token is ours to report, as a 401 problem.
_bearer = HTTPBearer(auto_error=False, description="a Supabase access token (JWT)")


def get_settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.settings
    return settings


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_repositories(request: Request) -> Repositories:
    repos: Repositories = request.app.state.repositories
    return repos


def get_ports(request: Request) -> ScriptPorts:
    ports: ScriptPorts = request.app.state.ports
    return ports


def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> UUID:
    """The user id of the request's bearer token; InvalidToken (401) otherwise."""
    if credentials is None:
        raise InvalidToken("a bearer token is required")
    verifier: TokenVerifier = request.app.state.verifier
    return verifier.verify(credentials.credentials)


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
ReposDep = Annotated[Repositories, Depends(get_repositories)]
PortsDep = Annotated[ScriptPorts, Depends(get_ports)]
CurrentUser = Annotated[UUID, Depends(current_user)]


def user_uploads(settings: SettingsDep, user_id: CurrentUser) -> Path:
    """The current user's uploads folder."""
    return settings.uploads(user_id)


UploadsDep = Annotated[Path, Depends(user_uploads)]
