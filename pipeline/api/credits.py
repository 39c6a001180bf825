"""Credits over the API: the caller's ledger in pages, estimates before a render, and grants by
the service's operator."""

from __future__ import annotations

import logging
from uuid import UUID

from pipeline.api.billing_models import GrantIn, GrantOut
from pipeline.api.cursor import decode_ledger_cursor, encode_cursor
from pipeline.api.errors import IdempotencyMismatch
from pipeline.api.models import EstimateIn, EstimateOut, LedgerItem, LedgerPage
from pipeline.errors import BadInput
from pipeline.render import RenderRequest
from pipeline.settings import Settings
from pipeline.store import KeyReused, Repositories, UnknownUser
from pipeline.wiring import estimate as estimate_render

__all__ = ["estimate", "grant", "ledger_page"]

_log = logging.getLogger("pipeline.api.credits")


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


def grant(*, repos: Repositories, body: GrantIn, key: str) -> tuple[GrantOut, bool]:
    """Grants once per (user, key): the grant and whether it was a replay of an earlier one.
    The ledger's own idempotency key makes it once, so a retried request (a timeout, a double
    click in an admin tool) never adds credits twice; the same key with another amount or
    reason is refused (IdempotencyMismatch), an unknown user is BadInput naming ``user_id``."""
    try:
        found = repos.credits.grant(
            user_id=body.user_id, amount=body.amount, reason=body.reason, key=key
        )
    except UnknownUser:
        raise BadInput("user_id", f"no user {body.user_id}") from None
    except KeyReused:
        raise IdempotencyMismatch() from None
    entry = found.entry
    if not found.replayed:
        _log.info("admin grant: %d credits to %s (%s), key %r", entry.delta, entry.user_id,
                  entry.reason, key)  # fmt: skip
    out = GrantOut(
        user_id=entry.user_id, ledger_id=entry.id, credits=entry.delta,
        balance_after=entry.balance_after, reason=entry.reason, idempotency_key=key,
        created_at=entry.created_at,
    )  # fmt: skip
    return out, found.replayed
