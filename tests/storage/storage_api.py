"""A stand-in for Supabase's Storage API behind `httpx.MockTransport`, in the server's own shapes.

Shapes follow supabase/storage: errors go out as HTTP 400 (500 stays 500) with the real status
in the body, `{"statusCode": "404", "code": "NoSuchKey", "error": "not_found", "message": ...}`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import httpx

PREFIX = "/storage/v1/object/"

NOT_FOUND = {
    "statusCode": "404",
    "code": "NoSuchKey",
    "error": "not_found",
    "message": "Object not found",
}


def storage_error(body: dict[str, str]) -> httpx.Response:
    """An error as storage-api sends it: HTTP 400 unless the body says 500."""
    return httpx.Response(500 if body["statusCode"] == "500" else 400, json=body)


def parse_multipart(request: httpx.Request) -> dict[str, tuple[dict[str, str], bytes]]:
    """Parts of a multipart/form-data body by field name: (headers, payload)."""
    match = re.search(r"boundary=([^;]+)", request.headers["content-type"])
    assert match, request.headers["content-type"]
    boundary = b"--" + match.group(1).encode()
    parts: dict[str, tuple[dict[str, str], bytes]] = {}
    for chunk in request.content.split(boundary)[1:-1]:
        head, _, payload = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode().split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = headers["content-disposition"]
        name_match = re.search(r'name="([^"]*)"', disposition)
        assert name_match, disposition
        parts[name_match.group(1)] = (headers, payload.removesuffix(b"\r\n"))
    return parts


@dataclass
class FakeStorageApi:
    """Objects in one dict keyed by (bucket, name); every request is recorded."""

    buckets: set[str] = field(default_factory=lambda: {"media"})
    objects: dict[tuple[str, str], tuple[bytes, str]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    upload_tokens: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        request.read()
        path = request.url.path
        assert path.startswith(PREFIX), path
        rest = path.removeprefix(PREFIX)
        if rest.startswith("upload/sign/"):
            return self._signed_upload(rest.removeprefix("upload/sign/"), request)
        if request.method == "POST" and rest.startswith("sign/"):
            return self._sign(rest.removeprefix("sign/"), json.loads(request.content))
        if request.method == "GET" and rest.startswith("sign/"):
            if not request.url.params.get("token", "").startswith("tok-"):
                return storage_error({**NOT_FOUND, "statusCode": "400", "code": "InvalidJWT"})
            return self._download(rest.removeprefix("sign/"))
        if request.method == "GET" and rest.startswith("info/"):
            return self._info(rest.removeprefix("info/"))
        if request.method == "POST":
            return self._upload(rest, request)
        if request.method == "GET":
            return self._download(rest)
        if request.method == "DELETE":
            return self._delete(rest, json.loads(request.content))
        return httpx.Response(405)

    def _split(self, rest: str) -> tuple[str, str] | httpx.Response:
        bucket, _, name = rest.partition("/")
        if bucket not in self.buckets:
            return storage_error(
                {
                    "statusCode": "404",
                    "code": "NoSuchBucket",
                    "error": "Bucket not found",
                    "message": "Bucket not found",
                }
            )
        return bucket, name

    def _upload(self, rest: str, request: httpx.Request) -> httpx.Response:
        found = self._split(rest)
        if isinstance(found, httpx.Response):
            return found
        if found in self.objects and request.headers.get("x-upsert") != "true":
            return storage_error(
                {
                    "statusCode": "409",
                    "code": "KeyAlreadyExists",
                    "error": "Duplicate",
                    "message": "The resource already exists",
                }
            )
        headers, payload = parse_multipart(request)["file"]
        self.objects[found] = (payload, headers["content-type"])
        return httpx.Response(
            200, json={"Key": "/".join(found), "Id": "2eb16359-ecd4-4070-8eb1-8408baa42493"}
        )

    def _download(self, rest: str) -> httpx.Response:
        found = self._split(rest)
        if isinstance(found, httpx.Response):
            return found
        if found not in self.objects:
            return storage_error(NOT_FOUND)
        data, content_type = self.objects[found]
        return httpx.Response(200, content=data, headers={"content-type": content_type})

    def _info(self, rest: str) -> httpx.Response:
        found = self._split(rest)
        if isinstance(found, httpx.Response):
            return found
        if found not in self.objects:
            return storage_error(NOT_FOUND)
        data, content_type = self.objects[found]
        return httpx.Response(
            200,
            json={
                "id": "2eb16359-ecd4-4070-8eb1-8408baa42493",
                "name": found[1],
                "bucket_id": found[0],
                "size": len(data),
                "content_type": content_type,
            },
        )

    def _sign(self, rest: str, body: dict[str, object]) -> httpx.Response:
        found = self._split(rest)
        if isinstance(found, httpx.Response):
            return found
        if found not in self.objects:
            return storage_error(NOT_FOUND)
        bucket, name = found
        return httpx.Response(
            200,
            json={"signedURL": f"/object/sign/{bucket}/{name}?token=tok-{body['expiresIn']}"},
        )

    def _signed_upload(self, rest: str, request: httpx.Request) -> httpx.Response:
        """``POST /object/upload/sign/{bucket}/{name}`` (service key) answers
        ``{"url": "/object/upload/sign/{bucket}/{name}?token=..."}``; ``PUT`` to that URL (no
        other credentials) stores the body once, answering ``{"Key": "{bucket}/{name}"}``."""
        found = self._split(rest)
        if isinstance(found, httpx.Response):
            return found
        bucket, name = found
        if request.method == "POST":
            token = f"upload-{len(self.upload_tokens)}"
            self.upload_tokens[token] = found
            return httpx.Response(
                200, json={"url": f"/object/upload/sign/{bucket}/{name}?token={token}"}
            )
        if self.upload_tokens.get(request.url.params.get("token", "")) != found:
            return storage_error(
                {"statusCode": "400", "code": "InvalidJWT", "error": "invalid_jwt",
                 "message": "invalid signature"}
            )  # fmt: skip
        if found in self.objects:
            return storage_error(
                {"statusCode": "409", "code": "KeyAlreadyExists", "error": "Duplicate",
                 "message": "The resource already exists"}
            )  # fmt: skip
        content_type = request.headers.get("content-type", "application/octet-stream")
        self.objects[found] = (request.content, content_type)
        return httpx.Response(200, json={"Key": f"{bucket}/{name}"})

    def _delete(self, bucket: str, body: dict[str, list[str]]) -> httpx.Response:
        removed = []
        for name in body["prefixes"]:
            if self.objects.pop((bucket, name), None) is not None:
                removed.append({"name": name, "bucket_id": bucket})
        return httpx.Response(200, json=removed)
