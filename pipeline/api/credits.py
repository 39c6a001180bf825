"""Credits over the API: the caller's ledger in pages, and estimates before a render."""

from __future__ import annotations

from uuid import UUID

from pipeline.api.cursor import decode_ledger_cursor, encode_cursor
from pipeline.api.models import EstimateIn, EstimateOut, LedgerItem, LedgerPage
from pipeline.render import RenderRequest
from pipeline.settings import Settings
from pipeline.store import Repositories
from pipeline.wiring import estimate as estimate_render

__all__ = ["estimate", "ledger_page"]


def ledger_page(
    *, repos: Repositories, user_id: UUID, cursor: str | None, limit: int
) -> LedgerPage:
    """Up to ``limit`` entries, newest first, after ``cursor``."""
    before = decode_ledger_cursor(cursor) if cursor is not None else None
    rows = repos.credits.ledger(user_id=user_id, before=before, limit=limit + 1)
    items = [LedgerItem.model_validate(r.model_dump()) for r in rows[:limit]]
    more = len(rows) > limit
    return LedgerPage(items=items, next_cursor=encode_cursor(items[-1].id) if more else None)


def estimate(
    *, repos: Repositories, user_id: UUID, request: EstimateIn, settings: Settings
) -> EstimateOut:
    """The price of rendering the brief (or the requested formats), against the balance: what a
    job rendering it holds (its script options are written when its project is created, and
    are not part of a render's price)."""
    render = RenderRequest(
        brief=request.brief,
        formats=tuple(request.formats) if request.formats is not None else None,
        preview=request.preview,
    )
    cost = estimate_render(render, settings, writes_script=False)
    credits = repos.credits.balance(user_id=user_id, as_user=True)
    return EstimateOut(
        credits=cost.credits, items=list(cost.items), balance=credits,
        affordable=credits >= cost.credits,
    )  # fmt: skip
