"""The FastAPI app factory: settings and store (or repositories) handed in, routers mounted,
errors as problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.middleware.cors import CORSMiddleware

from pipeline.api.accounts import KnownAccounts
from pipeline.api.auth import TokenVerifier
from pipeline.api.contract import document_common_answers, json_bodies_only
from pipeline.api.deps import Readiness
from pipeline.api.docs import serve_docs
from pipeline.api.errors import PROBLEM_JSON, install_error_handlers
from pipeline.api.limits import BodySizeLimit
from pipeline.api.media_desk import LocalMediaDesk, MediaDesk
from pipeline.api.routes import (
    admin,
    analytics,
    analytics_import,
    api_keys,
    billing,
    claims,
    credits,
    files,
    health,
    jobs,
    projects,
    providers,
    uploads,
    webhooks,
)
from pipeline.download import DEFAULT_POLICY, DownloadPolicy
from pipeline.egress import Resolver, resolve_host
from pipeline.settings import Settings
from pipeline.storage import BlobStore
from pipeline.store import Repositories, Store
from pipeline.wiring import PortsFactory, blob_store

__all__ = ["create_app"]

TAGS = [
    {"name": "health", "description": "Liveness and readiness probes."},
    {"name": "projects", "description": "Briefs, their script options and the chosen one."},
    {"name": "uploads", "description": "Photos, logos, fonts, music and voice-overs for briefs."},
    {"name": "credits", "description": "Balance, ledger and cost estimates."},
    {"name": "jobs", "description": "Render jobs: start (idempotent), follow (SSE), read, cancel."},
    {"name": "webhooks", "description": "Endpoints that receive signed job events."},
    {"name": "providers", "description": "Signed callbacks from generative providers."},
    {"name": "analytics", "description": "Ad performance: report, chart, template mix, costs."},
    {"name": "billing", "description": "Credit purchases: Stripe's signed webhook."},
    {"name": "admin", "description": "The service's operator (admin token): credit grants."},
    {"name": "api-keys", "description": "Keys for server-to-server calls, beside Supabase tokens."},
]
# What a browser page of an allowed origin may send and read.
_CORS_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID"]
_CORS_EXPOSED = ["Idempotent-Replayed", "WWW-Authenticate"]
# Multipart framing around the file of an upload.
_MULTIPART_SLACK = 64 * 1024


def create_app(
    *,
    settings: Settings,
    store: Store | None = None,
    repositories: Repositories | None = None,
    ports: PortsFactory | None = None,
    blobs: BlobStore | None = None,
    downloads: DownloadPolicy | None = None,
    media_desk: MediaDesk | None = None,
    readiness: Readiness | None = None,
    resolve: Resolver = resolve_host,
) -> FastAPI:
    """A new app; the caller owns ``store`` and closes it. ``settings.api`` must be set (token
    verification); ``repositories`` default to the PostgreSQL ones over ``store``, ``blobs`` to
    the settings' blob store. ``media_desk`` checks uploads, fetches a brief's https URLs and
    writes its scripts: by default a :class:`LocalMediaDesk` in this process, writing with
    ``ports`` (the composition root's by default) and fetching with ``downloads`` (the SSRF-safe
    default); those two configure only that default, so they cannot come with a desk.

    ``readiness`` is asked by ``/ready`` after the database: None when ready, else why not (for
    ``reelforge serve``, how many of its render workers run); ``/ready`` answers 503 with it.
    Without a store (``repositories`` given, e.g. in memory) ``/ready`` has no database to ask
    and answers 200 (unless ``readiness`` says otherwise), and provider callbacks, which run in
    one database transaction, answer 503.
    """
    api = settings.require_api()
    if blobs is None:
        settings.require_public_url()  # the base of every link the API hands out
        blobs = blob_store(settings)
    if repositories is None:
        if store is None:
            raise TypeError("create_app needs a store, or the repositories to use without one")
        repositories = Repositories.postgres(store)
    if media_desk is None:
        media_desk = LocalMediaDesk(settings, ports, downloads or DEFAULT_POLICY)
    elif ports is not None or downloads is not None:
        raise TypeError("ports and downloads configure the local media desk: give them to it")
    app = FastAPI(
        title="reelforge",
        summary="Product video ads from a brief, over HTTPS.",
        version="1",
        openapi_tags=TAGS,
        dependencies=[Depends(json_bodies_only)],
        docs_url=None,
        redoc_url=None,
    )
    serve_docs(app)  # from local assets, not a CDN
    app.state.settings = settings
    app.state.store = store
    app.state.repositories = repositories
    app.state.blobs = blobs
    app.state.media_desk = media_desk
    app.state.readiness = readiness
    app.state.verifier = TokenVerifier(api)
    app.state.known_accounts = KnownAccounts()
    app.state.resolve = resolve  # DNS for webhook URLs' checks (tests pass their own)
    _add_middleware(app, settings)
    install_error_handlers(app)
    routers = (
        health, projects, uploads, credits, jobs, files, claims, webhooks, providers, analytics,
        api_keys, billing, admin,
    )  # fmt: skip
    for module in routers:
        app.include_router(module.router)
    app.include_router(analytics_import.router)

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The document, built once: FastAPI's, with problem+json errors and every common answer."""
    if app.openapi_schema is None:
        document = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes,
            tags=app.openapi_tags,
        )  # fmt: skip
        app.openapi_schema = document_common_answers(_problem_media_types(document))
    return app.openapi_schema


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    """Body limits (uploads get their largest cap), then CORS for the configured origins."""
    api = settings.require_api()
    app.add_middleware(
        BodySizeLimit,
        limit=api.max_body_bytes,
        paths={
            "/v1/analytics/imports": api.max_report_bytes,
            "/v1/uploads": settings.upload_limits.largest + _MULTIPART_SLACK,
            "/v1/files/": files.MAX_PUT_BYTES,
        },
    )
    if settings.cors.origins:
        # Outermost: refusals (401, 413) carry the headers too, so the page can read them.
        app.add_middleware(
            CORSMiddleware, allow_origins=list(settings.cors.origins),
            allow_methods=["GET", "POST", "PATCH", "DELETE"], allow_headers=_CORS_HEADERS,
            expose_headers=_CORS_EXPOSED, max_age=600,
        )  # fmt: skip


def _problem_media_types(schema: dict[str, Any]) -> dict[str, Any]:
    """Error responses are documented as application/problem+json, as they are sent."""
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for code, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if code[:1] in "45" and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
    return schema
