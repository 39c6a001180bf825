"""Webhook endpoints: add (the secret shown once), list, delete, rotate the secret, re-enable,
and see recent deliveries. Everything runs as the caller, so another user's endpoint is a 404.

Only https URLs are accepted, whose host is not and does not resolve to an internal address
(the delivery's own rule, checked again at every delivery). In development, http://localhost and http://127.0.0.1 are allowed
too when the API's settings say so (``REELFORGE_WEBHOOKS_ALLOW_HTTP_LOCALHOST``, or the
development tokens of ``reelforge serve``).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, status

from pipeline.api.deps import CurrentUser, ReposDep, SettingsDep
from pipeline.api.errors import problem_responses
from pipeline.api.webhook_models import (
    DeliveryList,
    DeliveryOut,
    EndpointCreated,
    EndpointDeleted,
    EndpointIn,
    EndpointList,
    EndpointOut,
)
from pipeline.egress import BlockedURL
from pipeline.errors import BadInput
from pipeline.store import NotFound, Repositories
from pipeline.webhooks import generate_secret
from pipeline.webhooks.transport import check_receiver

__all__ = ["ROTATION_GRACE_SECONDS", "check_url", "router"]

ROTATION_GRACE_SECONDS = 24 * 3600
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})

router = APIRouter(
    prefix="/v1/webhooks/endpoints", tags=["webhooks"], responses=problem_responses(401, 404)
)


def allow_http_localhost(settings: SettingsDep) -> bool:
    """Whether http://localhost URLs are allowed (development)."""
    return settings.require_api().webhook_allow_http_localhost


AllowHttpLocalhost = Annotated[bool, Depends(allow_http_localhost)]


def check_url(url: str, *, allow_http_localhost: bool) -> str:
    """The URL if it may receive webhooks; BadInput (422, field ``url``) otherwise. The
    database checks the same (``is_webhook_url``, migration 0010) on every enabled endpoint."""
    if any(c.isspace() or not c.isprintable() for c in url):
        raise BadInput("url", "must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise BadInput("url", "is not a valid URL") from None
    if not host:
        raise BadInput("url", "has no host")
    if parts.username is not None or parts.password is not None:
        raise BadInput("url", "must not contain credentials")
    scheme = parts.scheme.lower()
    if scheme == "https":
        return url
    if scheme == "http" and host.lower() in _LOCAL_HOSTS:
        if allow_http_localhost:
            return url
        raise BadInput("url", "must use https (http://localhost is allowed only in development)")
    raise BadInput("url", "must use https")


def _owned(repos: Repositories, user: UUID, endpoint_id: UUID) -> EndpointOut:
    for endpoint in repos.webhooks.endpoints(user_id=user):
        if endpoint.id == endpoint_id:
            return EndpointOut.of(endpoint)
    raise NotFound("webhook endpoint", f"no endpoint {endpoint_id}")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add a webhook endpoint (its secret is shown only in this response)",
    responses=problem_responses(400, 413, 422),
)
def add_endpoint(
    request: Request,
    body: EndpointIn,
    user: CurrentUser,
    repos: ReposDep,
    allow_http: AllowHttpLocalhost,
) -> EndpointCreated:
    url = check_url(body.url, allow_http_localhost=allow_http)
    try:  # as the delivery will: no receiver at an internal address
        check_receiver(url, local_receivers=allow_http, resolve=request.app.state.resolve)
    except BlockedURL as exc:
        raise BadInput("url", f"cannot receive webhooks: {exc}") from None
    endpoint = repos.webhooks.create_endpoint(
        user_id=user, url=url, secret=generate_secret(), events=body.events
    )
    return EndpointCreated.with_secret(endpoint)


@router.get("", summary="List webhook endpoints (without their secrets)")
def get_endpoints(user: CurrentUser, repos: ReposDep) -> EndpointList:
    return EndpointList(
        endpoints=[EndpointOut.of(e) for e in repos.webhooks.endpoints(user_id=user)]
    )


@router.delete(
    "/{endpoint_id}",
    summary="Delete a webhook endpoint and its deliveries",
    description='Returns `{"id": ..., "deleted": true}` (as Stripe does), not an empty 204.',
)
def remove_endpoint(endpoint_id: UUID, user: CurrentUser, repos: ReposDep) -> EndpointDeleted:
    # 200 with a body rather than 204: every operation documents a response model (test_openapi).
    repos.webhooks.delete_endpoint(user_id=user, endpoint_id=endpoint_id)
    return EndpointDeleted(id=endpoint_id)


@router.post(
    "/{endpoint_id}/rotate",
    summary="Rotate an endpoint's secret (the new one is shown only in this response)",
    description=(
        "For 24 hours (until `previous_secret_expires_at`) deliveries carry signatures with "
        "both the new and the previous secret, so the receiver can switch without losing any."
    ),
)
def rotate_endpoint_secret(
    endpoint_id: UUID, user: CurrentUser, repos: ReposDep
) -> EndpointCreated:
    endpoint = repos.webhooks.rotate_secret(
        user_id=user,
        endpoint_id=endpoint_id,
        secret=generate_secret(),
        grace_seconds=ROTATION_GRACE_SECONDS,
    )
    return EndpointCreated.with_secret(endpoint)


@router.post("/{endpoint_id}/enable", summary="Re-enable a disabled endpoint")
def reenable_endpoint(endpoint_id: UUID, user: CurrentUser, repos: ReposDep) -> EndpointOut:
    return EndpointOut.of(repos.webhooks.enable_endpoint(user_id=user, endpoint_id=endpoint_id))


@router.get(
    "/{endpoint_id}/deliveries",
    summary="An endpoint's recent deliveries, newest first",
    responses=problem_responses(422),
)
def get_deliveries(
    endpoint_id: UUID,
    user: CurrentUser,
    repos: ReposDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> DeliveryList:
    _owned(repos, user, endpoint_id)
    rows = repos.webhooks.deliveries(user_id=user, endpoint_id=endpoint_id, limit=limit)
    return DeliveryList(deliveries=[DeliveryOut.of(d) for d in rows])
