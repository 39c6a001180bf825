"""The service's own operations, authenticated by the admin token (REELFORGE_ADMIN_TOKEN), never
by a user's token: credit grants."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from pipeline.api import credits, idempotency
from pipeline.api.billing_models import GrantIn, GrantOut
from pipeline.api.deps import AdminCaller, ReposDep
from pipeline.api.errors import problem_responses
from pipeline.store.credits import MAX_GRANT_KEY

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=problem_responses(401, 404))


def grant_key(request: Request) -> str:
    """The Idempotency-Key; a 400 problem if it is missing, malformed or too long for a grant."""
    try:
        key = idempotency.validate_key(request.headers.get(idempotency.HEADER))
    except idempotency.InvalidKey as exc:
        raise HTTPException(400, str(exc)) from None
    if len(key) > MAX_GRANT_KEY:
        raise HTTPException(
            400, f"the {idempotency.HEADER} header is over {MAX_GRANT_KEY} characters"
        )
    return key


GrantKey = Annotated[str, Depends(grant_key)]

_KEY_PARAMETER: dict[str, Any] = {
    "name": idempotency.HEADER,
    "in": "header",
    "required": True,
    "description": (
        f"1 to {MAX_GRANT_KEY} visible ASCII characters naming this grant (a UUID). The key is "
        "kept with the grant in the user's ledger, for good: the same key for the same user "
        "returns the first grant with `Idempotent-Replayed: true` and adds nothing; with "
        "another amount or reason it is a 422."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_GRANT_KEY, "pattern": "^[!-~]+$"},
    "example": "8e6f3c7e-5f4d-4d0b-9a0b-2f9f1a6c7d21",
}


@router.post(
    "/credits/grants",
    status_code=status.HTTP_201_CREATED,
    response_model=GrantOut,
    summary="Grant credits to a user (service only)",
    description=(
        "Adds credits to a user's balance once per Idempotency-Key, with a ledger entry the "
        "user sees. Authenticated by `Authorization: Bearer <REELFORGE_ADMIN_TOKEN>`; a user's "
        "token is a 401. Off (404) while no admin token is configured. An unknown `user_id` "
        "is a 422 naming it."
    ),
    responses=problem_responses(400, 413, 422),
    openapi_extra={"parameters": [_KEY_PARAMETER]},
)
def create_grant(body: GrantIn, repos: ReposDep, _: AdminCaller, key: GrantKey) -> Response:
    out, replayed = credits.grant(repos=repos, body=body, key=key)
    return JSONResponse(
        out.model_dump(mode="json"),
        status_code=status.HTTP_201_CREATED,
        headers={idempotency.REPLAYED_HEADER: "true"} if replayed else None,
    )
