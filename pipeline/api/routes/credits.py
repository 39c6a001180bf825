"""Credits: the balance, the ledger (cursor pages) and cost estimates before a render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from pipeline.api import credits
from pipeline.api.deps import CurrentUser, ReposDep, SettingsDep
from pipeline.api.errors import problem_responses
from pipeline.api.models import Balance, EstimateIn, EstimateOut, LedgerPage

router = APIRouter(prefix="/v1", tags=["credits"], responses=problem_responses(401, 422))


@router.get("/credits", summary="The credit balance")
def get_balance(user: CurrentUser, repos: ReposDep) -> Balance:
    return Balance(credits=repos.credits.balance(user_id=user, as_user=True))


@router.get("/credits/ledger", summary="Ledger entries, newest first")
def get_ledger(
    user: CurrentUser,
    repos: ReposDep,
    cursor: Annotated[str | None, Query(max_length=64, description="next_cursor of a page")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> LedgerPage:
    return credits.ledger_page(repos=repos, user_id=user, cursor=cursor, limit=limit)


@router.post(
    "/estimates", summary="What rendering a brief would cost", responses=problem_responses(400, 413)
)
def estimate(
    request: EstimateIn, user: CurrentUser, repos: ReposDep, settings: SettingsDep
) -> EstimateOut:
    return credits.estimate(repos=repos, user_id=user, request=request, settings=settings)
