"""The FastAPI app factory: settings and store (or repositories) handed in, routers mounted,
errors as problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from pipeline.api.auth import TokenVerifier
from pipeline.api.errors import PROBLEM_JSON, install_error_handlers
from pipeline.api.limits import BodySizeLimit
from pipeline.api.routes import (
    admin,
    analytics,
    analytics_import,
    billing,
    credits,
    files,
    health,
    jobs,
    projects,
    providers,
    webhooks,
)
from pipeline.settings import Settings
from pipeline.storage import BlobStore
from pipeline.store import Repositories, Store
from pipeline.wiring import PortsFactory, blob_store, ports_factory

__all__ = ["create_app"]

TAGS = [
    {"name": "health", "description": "Liveness and readiness probes."},
    {"name": "projects", "description": "Briefs, their script options and the chosen one."},
    {"name": "credits", "description": "Balance, ledger and cost estimates."},
    {"name": "jobs", "description": "Render jobs: start (idempotent), follow (SSE), read, cancel."},
    {"name": "webhooks", "description": "Endpoints that receive signed job events."},
    {"name": "providers", "description": "Signed callbacks from generative providers."},
    {"name": "analytics", "description": "Ad performance: report, chart, template mix, costs."},
    {"name": "billing", "description": "Credit purchases: Stripe's signed webhook."},
    {"name": "admin", "description": "The service's operator (admin token): credit grants."},
]


def create_app(
    *,
    settings: Settings,
    store: Store | None = None,
    repositories: Repositories | None = None,
    ports: PortsFactory | None = None,
    blobs: BlobStore | None = None,
) -> FastAPI:
    """A new app; the caller owns ``store`` and closes it. ``settings.api`` must be set (token
    verification); ``repositories`` default to the PostgreSQL ones over ``store``, ``ports`` to
    the composition root's, ``blobs`` to the settings' blob store.

    Without a store (``repositories`` given, e.g. in memory) ``/ready`` has no database to ask
    and answers 200, and provider callbacks, which run in one database transaction, answer 503.
    """
    api = settings.require_api()
    if blobs is None:
        settings.require_public_url()  # the base of every link the API hands out
        blobs = blob_store(settings)
    if repositories is None:
        if store is None:
            raise TypeError("create_app needs a store, or the repositories to use without one")
        repositories = Repositories.postgres(store)
    app = FastAPI(
        title="reelforge",
        summary="Product video ads from a brief, over HTTPS.",
        version="1",
        openapi_tags=TAGS,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.repositories = repositories
    app.state.ports = ports or ports_factory(settings)
    app.state.blobs = blobs
    app.state.verifier = TokenVerifier(api)
    app.add_middleware(
        BodySizeLimit,
        limit=api.max_body_bytes,
        paths={"/v1/analytics/imports": api.max_report_bytes, "/v1/files/": files.MAX_PUT_BYTES},
    )
    install_error_handlers(app)
    for module in (
        health, projects, credits, jobs, files, webhooks, providers, analytics, billing, admin,
    ):  # fmt: skip
        app.include_router(module.router)
    app.include_router(analytics_import.router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _problem_media_types(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    summary=app.summary,
                    routes=app.routes,
                    tags=app.openapi_tags,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _problem_media_types(schema: dict[str, Any]) -> dict[str, Any]:
    """Error responses are documented as application/problem+json, as they are sent."""
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for code, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if code[:1] in "45" and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
    return schema
