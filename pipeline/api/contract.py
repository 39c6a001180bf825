"""The OpenAPI document as the contract: the answers every operation can give whatever its route
(a malformed or oversized body, an unsupported content type, a refused token, an invalid field)
written into the document once, JSON routes refusing other content types (415, a dependency of
every route), and 405s that list every method of the path. tests/api/test_contract.py holds the server to the document."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi import params as fastapi_params

from pipeline.errors import BadInput

__all__ = ["UnsupportedMediaType", "allowed_methods", "document_common_answers", "json_bodies_only"]

PROBLEM_REF: Final = {"$ref": "#/components/schemas/Problem"}
_JSON_TYPES: Final = ("application/json",)
_METHODS: Final = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
# What each answer means when an operation can give it whatever its route does.
_COMMON: Final = {
    "400": "Malformed request: the body is not valid JSON",
    "401": "Unauthorized: a missing, expired or invalid token",
    "403": "Forbidden: a valid token whose user has no account here",
    "413": "Content too large: the body is over the size limit",
    "415": "Unsupported media type: this operation takes application/json",
    "422": "Invalid input: the problem names the field",
}


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods the document lists for ``path`` (for a 405's ``Allow``: every method of the
    path, where Starlette names only the first route's); empty for an undocumented path."""
    methods: set[str] = set()
    for template, item in app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            methods |= {m.upper() for m in item if m in _METHODS}
    return sorted(methods)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in _JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


class UnsupportedMediaType(BadInput):
    """A body other than JSON on an operation that takes JSON (415)."""

    def __init__(self, content_type: str) -> None:
        shown = content_type.split(";", 1)[0].strip() or "no Content-Type"
        super().__init__("Content-Type", f"this operation takes application/json, not {shown}")


def _takes_json(route: object) -> bool:
    body = getattr(route, "body_field", None)
    return body is not None and not isinstance(body.field_info, fastapi_params.Form)


def json_bodies_only(request: Request) -> None:
    """A dependency of every route: where the route's body is a JSON model, a body (or a
    Content-Type) of another type is refused before the body is read."""
    if not _takes_json(request.scope.get("route")):
        return
    content_type = request.headers.get("content-type", "")
    length = request.headers.get("content-length", "").strip()
    has_body = "transfer-encoding" in request.headers or length not in ("", "0")
    if (content_type or has_body) and not _is_json(content_type):
        raise UnsupportedMediaType(content_type)


def _operations(schema: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for item in schema.get("paths", {}).values():
        yield from item.values()


def _common_codes(operation: dict[str, Any]) -> list[str]:
    codes = []
    schemes = {name for requirement in operation.get("security", []) for name in requirement}
    if schemes:
        codes.append("401")
    if "HTTPBearer" in schemes:
        codes.append("403")
    body = operation.get("requestBody", {}).get("content", {})
    if "application/json" in body:
        codes += ["400", "413", "415"]
    elif body:
        codes.append("413")
    if body or operation.get("parameters"):
        codes.append("422")
    return codes


def document_common_answers(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with every operation declaring the common answers it can give, each a
    Problem (FastAPI's default 422 body, HTTPValidationError, is never sent: it goes)."""
    for operation in _operations(schema):
        responses = operation.setdefault("responses", {})
        for code in _common_codes(operation):
            entry = responses.setdefault(code, {"description": _COMMON[code]})
            entry["content"] = {"application/problem+json": {"schema": PROBLEM_REF}}
    components = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema
