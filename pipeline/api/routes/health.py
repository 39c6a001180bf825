"""Liveness and readiness probes (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.exceptions import HTTPException

from pipeline.api.deps import OptionalStoreDep, ReadinessDep
from pipeline.api.errors import problem_responses
from pipeline.api.models import Health

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness: the process answers")
def health() -> Health:
    return Health()


@router.get(
    "/ready",
    summary="Readiness: the database answers and every render worker runs",
    description="503 while the database is unreachable, or while fewer of `reelforge serve`'s "
    "render workers run than it was started with (one died and is being replaced).",
    responses=problem_responses(503),
)
def ready(store: OptionalStoreDep, readiness: ReadinessDep) -> Health:
    # An app on in-memory repositories has no database to wait for.
    if store is not None:
        store.ping()
    reason = readiness() if readiness is not None else None
    if reason is not None:
        raise HTTPException(503, reason)
    return Health()
