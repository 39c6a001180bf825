"""API keys: create (the key shown once), list (never the key), revoke (at once)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from pipeline.api import api_keys
from pipeline.api.deps import CurrentUser, ReposDep
from pipeline.api.errors import problem_responses
from pipeline.api.upload_models import ApiKeyCreated, ApiKeyIn, ApiKeyList, ApiKeyOut, ApiKeyRevoked
from pipeline.store import NotFound

router = APIRouter(prefix="/v1/api-keys", tags=["api-keys"], responses=problem_responses(401))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key (the key is shown only in this response)",
    description=(
        "For server-to-server calls: send it as `Authorization: Bearer rf_live_...`; it acts "
        "as you, with the same limits. Only its SHA-256 is stored."
    ),
    responses=problem_responses(400, 413, 422),
)
def create_api_key(body: ApiKeyIn, user: CurrentUser, repos: ReposDep) -> ApiKeyCreated:
    return api_keys.create_key(repos=repos, user_id=user, name=body.name)


@router.get("", summary="List your active API keys (without the keys)")
def list_api_keys(user: CurrentUser, repos: ReposDep) -> ApiKeyList:
    return ApiKeyList(keys=[ApiKeyOut.of(k) for k in repos.api_keys.list(user_id=user)])


@router.delete(
    "/{key_id}",
    summary="Revoke an API key (it stops working at once)",
    responses=problem_responses(404, 422),
)
def revoke_api_key(key_id: UUID, user: CurrentUser, repos: ReposDep) -> ApiKeyRevoked:
    if not repos.api_keys.revoke(user_id=user, key_id=key_id):
        raise NotFound("api key", "no such active API key")
    return ApiKeyRevoked(id=key_id)
