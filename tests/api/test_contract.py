"""The OpenAPI document is the contract: Schemathesis sends every operation generated requests
(a fixed seed, a few examples each, valid and invalid) against the app on the embedded
PostgreSQL and checks each answer against the document: its status code declared, its body and
content type as documented, no 5xx, invalid input refused, 405s that list the path's methods.
A status code a route starts answering without declaring it fails here."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from pipeline.api.app import create_app
from pipeline.settings import BillingSettings, Settings
from pipeline.store import Store

pytestmark = pytest.mark.integration

ADMIN_TOKEN = secrets.token_urlsafe(32)
EXAMPLES = 4  # per operation and mode: the whole run stays well under a minute
# 422 to a request the document cannot tell from a valid one: an opaque cursor or event id
# not issued by the API, an Idempotency-Key reused with another body, a rule about the data
# (a brief's template fit, a photo not uploaded, no performance imported yet, a currency without a price, a CSV without rows).
_BUSINESS_422 = [
    "/v1/projects", "/v1/projects/{project_id}", "/v1/estimates", "/v1/uploads", "/v1/credits/ledger", "/v1/jobs",
    "/v1/projects/{project_id}/jobs", "/v1/analytics/recommendation", "/v1/analytics/costs",
    "/v1/analytics/imports", "/v1/webhooks/endpoints", "/v1/admin/credits/grants",
]  # fmt: skip
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20261203,
        "operations": [
            {
                "include-path": path,
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", "401", "402", "403", "404", "409", "422"]
                    }
                },
            }
            for path in _BUSINESS_422
        ]
        + [
            # Declared 501: signed uploads need Supabase Storage, which this deployment lacks.
            {
                "include-path": path,
                "checks": {
                    "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "501"]}
                },
            }
            for path in ("/v1/uploads/signed", "/v1/uploads/{upload_id}/complete")
        ],
    }
)


@pytest.fixture
def contract_app(settings: Settings, store: Store, make_user: Callable[[], uuid.UUID]) -> FastAPI:
    billing = BillingSettings(admin_tokens=(ADMIN_TOKEN,))  # type: ignore[arg-type]
    configured = settings.model_copy(update={"billing": billing})
    # Webhook hosts resolve to a public address: no DNS in the test.
    return create_app(settings=configured, store=store, resolve=lambda host: ["93.184.215.14"])


def _run(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> str | None:
    """The first failure of ``operation``'s generated cases in ``mode``, or None."""

    @given(operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers)

    try:
        check()
    except Unsatisfiable:  # nothing in the operation can be made invalid (no input at all)
        return None
    except (Exception, BaseExceptionGroup) as exc:  # FailureGroup: each check that failed
        return f"{operation.label} ({mode}): {exc}"
    return None


def test_every_operation_answers_as_documented(
    contract_app: FastAPI, token_for: Callable[..., str], make_user: Callable[[], uuid.UUID]
) -> None:
    user = {"Authorization": f"Bearer {token_for(make_user())}"}
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", contract_app, config=CONFIG)
    operations = [result.ok() for result in schema.get_all_operations()]
    failures = [
        failure
        for operation in operations
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        if (failure := _run(operation, mode, admin if "/admin/" in operation.path else user))
    ]
    print(f"schemathesis: {len(operations)} operations, {len(failures)} failures")
    assert len(operations) >= 38
    assert failures == [], "\n\n".join(failures)
