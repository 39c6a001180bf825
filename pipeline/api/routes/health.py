"""Liveness and readiness probes (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter

from pipeline.api.deps import OptionalStoreDep
from pipeline.api.errors import problem_responses
from pipeline.api.models import Health

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness: the process answers")
def health() -> Health:
    return Health()


@router.get("/ready", summary="Readiness: the database answers", responses=problem_responses(503))
def ready(store: OptionalStoreDep) -> Health:
    # An app on in-memory repositories has no database to wait for.
    if store is not None:
        store.ping()
    return Health()
