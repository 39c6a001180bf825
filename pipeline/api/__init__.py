"""The HTTP API: a FastAPI app factory over the repositories, Supabase JWT auth and problem+json
errors. ``create_app`` is in ``pipeline.api.app``; importing this package loads nothing else."""

from __future__ import annotations
