"""Opaque page cursors: a position in a newest-first list, base64url JSON the client echoes."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from uuid import UUID

from pipeline.errors import BadInput

__all__ = ["decode_job_cursor", "decode_ledger_cursor", "encode_cursor"]

_NOT_OURS = "is not a cursor returned by this API"


def encode_cursor(*position: str | int) -> str:
    """The cursor for "items older than this one" (its sort key and id)."""
    raw = json.dumps(list(position), separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> list[object]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadInput("cursor", _NOT_OURS) from None
    if not isinstance(value, list):
        raise BadInput("cursor", _NOT_OURS)
    return value


def decode_job_cursor(cursor: str) -> tuple[datetime, UUID]:
    """The (created_at, id) inside a jobs cursor; BadInput on ``cursor`` if it is not ours."""
    try:
        created, job_id = _decode(cursor)
        moment = datetime.fromisoformat(str(created))
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment, UUID(str(job_id))
    except (ValueError, TypeError):
        raise BadInput("cursor", _NOT_OURS) from None


def decode_ledger_cursor(cursor: str) -> int:
    """The ledger entry id inside a cursor; BadInput on ``cursor`` if it is not ours."""
    try:
        (entry_id,) = _decode(cursor)
    except ValueError:
        raise BadInput("cursor", _NOT_OURS) from None
    if not isinstance(entry_id, int) or isinstance(entry_id, bool) or entry_id <= 0:
        raise BadInput("cursor", _NOT_OURS)
    return entry_id
