"""Credits over the API: the caller's balance, ledger pages with an opaque cursor, and estimates."""

from __future__ import annotations

import base64
import binascii
from uuid import UUID

from pipeline.api.models import EstimateIn, EstimateOut, LedgerItem, LedgerPage
from pipeline.api.pricing import LineItem, estimate_cost
from pipeline.errors import BadInput
from pipeline.providers.registry import choices, provider_estimate
from pipeline.providers.settings import ProviderSettings
from pipeline.store import Repositories

__all__ = ["decode_cursor", "encode_cursor", "estimate", "ledger_page"]


def encode_cursor(entry_id: int) -> str:
    """An opaque cursor for "entries older than ``entry_id``"."""
    return base64.urlsafe_b64encode(str(entry_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The entry id inside a cursor; BadInput on ``cursor`` if it was not made by us."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        value = int(text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadInput("cursor", "is not a cursor returned by this API") from None
    if value <= 0 or not text.isdigit():
        raise BadInput("cursor", "is not a cursor returned by this API")
    return value


def ledger_page(
    *, repos: Repositories, user_id: UUID, cursor: str | None, limit: int
) -> LedgerPage:
    """Up to ``limit`` entries, newest first, after ``cursor``."""
    before = decode_cursor(cursor) if cursor is not None else None
    rows = repos.credits.ledger(user_id=user_id, before=before, limit=limit + 1)
    items = [LedgerItem.model_validate(r.model_dump()) for r in rows[:limit]]
    more = len(rows) > limit
    return LedgerPage(items=items, next_cursor=encode_cursor(items[-1].id) if more else None)


def estimate(*, repos: Repositories, user_id: UUID, request: EstimateIn) -> EstimateOut:
    """The price of rendering the brief (or the requested formats), against the balance."""
    brief = request.brief
    formats = request.formats or list(brief.formats)
    cost = estimate_cost(duration=brief.duration, formats=formats, preview=request.preview)
    items = list(cost.items)
    settings = ProviderSettings()
    paid = provider_estimate(brief, formats, settings)
    if paid:
        used = ", ".join(
            f"{c.stage} {c.provider}"
            for c in choices(brief, settings).values()
            if c.provider not in ("offline", "none") and c.stage != "transcriber"
        )
        items.append(
            LineItem(item=f"providers ({used})", quantity=1, unit_credits=paid, credits=paid)
        )
    total = cost.credits + paid
    credits = repos.credits.balance(user_id=user_id, as_user=True)
    return EstimateOut(credits=total, items=items, balance=credits, affordable=credits >= total)
