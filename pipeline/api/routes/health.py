"""Liveness and readiness probes (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter

from pipeline.api.deps import StoreDep
from pipeline.api.errors import problem_responses
from pipeline.api.models import Health

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness: the process answers")
def health() -> Health:
    return Health()


@router.get("/ready", summary="Readiness: the database answers", responses=problem_responses(503))
def ready(store: StoreDep) -> Health:
    store.ping()
    return Health()
