"""The OpenAPI document: generated, tagged, typed, with examples and problem+json errors."""

from __future__ import annotations

import pytest

from tests.api.conftest import ApiClient

pytestmark = pytest.mark.integration


def test_every_operation_has_a_tag_a_response_model_and_problem_errors(client: ApiClient) -> None:
    schema = client.get("/openapi.json").json()
    operations = [
        (path, method, op) for path, item in schema["paths"].items() for method, op in item.items()
    ]
    assert {p for p, _, _ in operations} >= {
        "/health",
        "/ready",
        "/v1/projects",
        "/v1/projects/{project_id}",
        "/v1/credits",
        "/v1/credits/ledger",
        "/v1/estimates",
        "/v1/admin/credits/grants",
        "/v1/billing/stripe/webhook",
        "/v1/uploads",
        "/v1/uploads/signed",
        "/v1/uploads/{upload_id}",
        "/v1/uploads/{upload_id}/complete",
        "/v1/api-keys",
        "/v1/api-keys/{key_id}",
    }
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/v1/projects"]) and "delete" in paths[
        "/v1/projects/{project_id}"
    ]
    # Every new route says how it fails, as problem+json.
    for path, method, codes in [
        ("/v1/uploads", "post", {"401", "413", "422"}),
        ("/v1/uploads/{upload_id}", "delete", {"401", "404", "409"}),
        ("/v1/uploads/signed", "post", {"401", "422", "501"}),
        ("/v1/uploads/{upload_id}/complete", "post", {"404", "413", "422", "501"}),
        ("/v1/projects/{project_id}", "delete", {"401", "404", "409"}),
        ("/v1/api-keys/{key_id}", "delete", {"401", "404"}),
    ]:
        assert codes <= set(paths[path][method]["responses"]), (method, path)
    brief = paths["/v1/projects"]["post"]["requestBody"]["content"]["application/json"]
    assert brief["schema"]["$ref"] == "#/components/schemas/Brief"
    for path, method, op in operations:
        assert op.get("tags"), f"{method} {path} has no tag"
        success = next(c for c in op["responses"] if c.startswith("2"))
        content = op["responses"][success]["content"]
        if "image/png" in content:  # a chart: binary, documented as such
            assert content["image/png"]["schema"]["format"] == "binary", (method, path)
        else:
            assert "$ref" in content["application/json"]["schema"], (
                f"{method} {path} has no response model"
            )
        for code, response in op["responses"].items():
            if code[0] in "45":
                assert list(response["content"]) == ["application/problem+json"], (method, path)
    components = schema["components"]["schemas"]
    assert "examples" in components["Problem"]
    assert (
        "espresso"
        in schema["paths"]["/v1/projects"]["post"]["requestBody"]["content"]["application/json"][
            "examples"
        ]
    )
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


def test_the_admin_and_billing_routes_document_their_own_credentials(client: ApiClient) -> None:
    schema = client.get("/openapi.json").json()
    grant = schema["paths"]["/v1/admin/credits/grants"]["post"]
    webhook = schema["paths"]["/v1/billing/stripe/webhook"]["post"]

    assert grant["security"] == [{"AdminToken": []}]
    schemes = schema["components"]["securitySchemes"]
    assert "REELFORGE_ADMIN_TOKEN" in schemes["AdminToken"]["description"]
    assert {p["name"] for p in grant["parameters"]} == {"Idempotency-Key"}
    assert set(grant["responses"]) >= {"201", "400", "401", "404", "422"}
    assert "security" not in webhook  # Stripe's signature, not a bearer token
    assert {p["name"] for p in webhook["parameters"]} == {"Stripe-Signature"}
    assert set(webhook["responses"]) >= {"200", "400", "404"}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_every_asset_from_this_server(client: ApiClient, page: str) -> None:
    import re

    html = client.get(page)

    assert html.status_code == 200 and "text/html" in html.headers["content-type"]
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html.text)
    urls += re.findall(r"""url:\s*'([^']+)'""", html.text)  # the document Swagger UI loads
    assert urls and not [u for u in urls if "//" in u], urls  # nothing from another host
    assets = [u for u in urls if u.startswith("/docs/assets/")]
    assert len(assets) >= 2, urls
    for url in assets:
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 1000, url
