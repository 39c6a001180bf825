"""Credits: the balance, the ledger (cursor pages) and cost estimates before a render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from pipeline.api import credits
from pipeline.api.deps import CurrentUser, StoreDep
from pipeline.api.errors import problem_responses
from pipeline.api.models import Balance, EstimateIn, EstimateOut, LedgerPage

router = APIRouter(prefix="/v1", tags=["credits"], responses=problem_responses(401, 422))


@router.get("/credits", summary="The credit balance")
def get_balance(user: CurrentUser, store: StoreDep) -> Balance:
    return Balance(credits=credits.balance(store=store, user_id=user))


@router.get("/credits/ledger", summary="Ledger entries, newest first")
def get_ledger(
    user: CurrentUser,
    store: StoreDep,
    cursor: Annotated[str | None, Query(max_length=64, description="next_cursor of a page")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> LedgerPage:
    return credits.ledger_page(store=store, user_id=user, cursor=cursor, limit=limit)


@router.post(
    "/estimates", summary="What rendering a brief would cost", responses=problem_responses(400, 413)
)
def estimate(request: EstimateIn, user: CurrentUser, store: StoreDep) -> EstimateOut:
    return credits.estimate(store=store, user_id=user, request=request)
