"""Downloads of tenant-supplied asset URLs into a content-addressed cache, and the brief's use of it.

Every hop of a download goes through :class:`pipeline.egress.PublicOnlyTransport` (public
addresses only, pinned); redirects are followed here, at most ``max_redirects``, each checked
again. The body is capped while it streams and the whole download has one deadline; the file
appears under its SHA-256 only when complete.

Why not a library: none fitted sync httpx with an injectable resolver, a size cap and a total
deadline (checked: drawbridge, httpx-secure and safehttpx are async only, safehttpx also resolves
through Google's DNS; advocate and requests-hardened are built on requests, advocate last
released in 2020; egressweave is at 0.1.0).
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import httpx

from pipeline.brief import Brief, file_refs, parse_brief, read_brief_data
from pipeline.egress import (
    MAX_ASSET_BYTES,
    Allow,
    BlockedURL,
    DeadlineExceeded,
    PublicOnlyTransport,
    Resolver,
    TooLarge,
    Watchdog,
    resolve_host,
    resolve_within,
)
from pipeline.errors import BriefError

__all__ = [
    "DEADLINE_SECONDS",
    "DEFAULT_POLICY",
    "MAX_REDIRECTS",
    "DownloadPolicy",
    "download",
    "fetch_brief_assets",
    "fetch_https",
    "https_url",
    "load_brief_fetching",
]

DEADLINE_SECONDS = 60.0
MAX_REDIRECTS = 5
SCHEMES = ("http", "https")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+)://")  # two letters or more: C:// is a drive

# Content types of photos, logos, fonts and music, to the suffix the media code reads them by.
_SUFFIXES = {
    "image/jpeg": ".jpg",
    "image/jpg": ".jpg",
    "image/pjpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "image/avif": ".avif",
    "image/heic": ".heic",
    "image/svg+xml": ".svg",
    "audio/mpeg": ".mp3",
    "audio/mp3": ".mp3",
    "audio/mp4": ".m4a",
    "audio/x-m4a": ".m4a",
    "audio/aac": ".aac",
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/wave": ".wav",
    "audio/ogg": ".ogg",
    "audio/opus": ".opus",
    "audio/flac": ".flac",
    "audio/x-flac": ".flac",
    "font/ttf": ".ttf",
    "font/otf": ".otf",
    "font/woff": ".woff",
    "font/woff2": ".woff2",
    "application/x-font-ttf": ".ttf",
    "application/x-font-otf": ".otf",
    "application/font-sfnt": ".ttf",
    "application/vnd.ms-opentype": ".otf",
}
_KNOWN_SUFFIXES = frozenset(_SUFFIXES.values()) | {".jpeg"}


class _Borrowed(httpx.BaseTransport):
    """A caller's transport, used but not closed: it outlives the download."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._inner.handle_request(request)


def _suffix(response: httpx.Response, url: httpx.URL) -> str:
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in _SUFFIXES:
        return _SUFFIXES[content_type]
    suffix = PurePosixPath(url.path).suffix.lower()
    if suffix in _KNOWN_SUFFIXES:
        return ".jpg" if suffix == ".jpeg" else suffix
    return ".bin"


def _next_url(url: httpx.URL, response: httpx.Response, schemes: tuple[str, ...]) -> httpx.URL:
    location = response.headers.get("location")
    if not location:
        raise BlockedURL(f"{url.host} answered {response.status_code} without a Location")
    try:
        target = url.join(location)
    except httpx.InvalidURL as exc:
        raise BlockedURL(f"{url.host} redirected to an invalid URL") from exc
    if target.scheme not in schemes:
        raise BlockedURL(f"{url.host} redirected to a {target.scheme or 'schemeless'} URL")
    if target.userinfo:
        raise BlockedURL(f"{url.host} redirected to a URL with credentials")
    return target.copy_with(fragment=None)


def _store(
    response: httpx.Response, url: httpx.URL, dest_dir: Path, max_bytes: int, watchdog: Watchdog
) -> Path:
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise TooLarge(f"{url.host} announced {length} bytes, over the cap of {max_bytes}")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        # Asked for identity; a compressed body's decoded size is only known once decoded.
        raise BlockedURL(f"{url.host} sent a {encoding}-encoded body after identity was asked")
    dest_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, part = tempfile.mkstemp(dir=dest_dir, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in response.iter_bytes():  # identity only: the bytes as sent
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"the body from {url.host} is larger than {max_bytes} bytes")
                if watchdog.expired:
                    raise DeadlineExceeded(f"the download from {url.host} ran past its deadline")
                digest.update(chunk)
                out.write(chunk)
        # A body that ends with the connection ends early, and looks complete, when the
        # watchdog shuts the socket: the deadline decides, not the end of the stream.
        if watchdog.expired:
            raise DeadlineExceeded(f"the download from {url.host} ran past its deadline")
        final = dest_dir / f"{digest.hexdigest()}{_suffix(response, url)}"
        os.replace(part, final)
        return final
    except BaseException:
        Path(part).unlink(missing_ok=True)
        raise


def download(
    url: str,
    dest_dir: Path,
    *,
    max_bytes: int = MAX_ASSET_BYTES,
    deadline: float = DEADLINE_SECONDS,
    max_redirects: int = MAX_REDIRECTS,
    resolve: Resolver = resolve_host,
    allow: Allow | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Path:
    """Downloads an http(s) URL to ``dest_dir/<sha256><suffix>`` and returns that path.

    Raises BlockedURL (TooLarge, DeadlineExceeded) when refused or cut short, HTTPStatusError for
    a final non-2xx answer, another ``httpx.HTTPError`` when the network fails. ``deadline`` is
    seconds for everything, redirects included; nothing is left in ``dest_dir`` on failure.
    ``resolve``, ``allow`` and ``transport`` (the one under the address check) are seams for tests.
    """
    ends = time.monotonic() + deadline
    current = httpx.URL(url)
    if current.scheme not in SCHEMES:
        raise BlockedURL(
            f"only http and https URLs are fetched, not {current.scheme or 'no scheme'}"
        )
    if current.userinfo:
        raise BlockedURL(f"the URL for {current.host} carries credentials")
    inner = _Borrowed(transport) if transport is not None else None
    guard = PublicOnlyTransport(
        inner, resolve=resolve_within(resolve, ends), schemes=SCHEMES, allow=allow
    )
    headers = {"accept-encoding": "identity", "user-agent": "reelforge-asset-fetch/1"}
    with httpx.Client(transport=guard, headers=headers, trust_env=False) as client:
        for _ in range(max_redirects + 1):
            remaining = ends - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceeded(f"the download from {current.host} ran past its deadline")
            try:
                with (
                    Watchdog(ends) as watchdog,
                    client.stream(
                        "GET",
                        current,
                        follow_redirects=False,
                        timeout=httpx.Timeout(remaining),
                        extensions={"trace": watchdog.trace},
                    ) as response,
                ):
                    if response.status_code in _REDIRECTS:
                        current = _next_url(current, response, SCHEMES)
                        continue
                    response.raise_for_status()
                    return _store(response, current, dest_dir, max_bytes, watchdog)
            except (BlockedURL, httpx.HTTPStatusError):
                raise
            except httpx.HTTPError as exc:
                if isinstance(exc, httpx.TimeoutException) or time.monotonic() >= ends:
                    raise DeadlineExceeded(
                        f"the download from {current.host} ran past its deadline"
                    ) from exc
                raise
    raise BlockedURL(f"more than {max_redirects} redirects, the last to {current.host}")


@dataclass(frozen=True)
class DownloadPolicy:
    """How :func:`fetch_brief_assets` downloads: the limits, and the seams tests replace."""

    max_bytes: int = MAX_ASSET_BYTES
    deadline: float = DEADLINE_SECONDS  # per file
    max_redirects: int = MAX_REDIRECTS
    resolve: Resolver = resolve_host
    allow: Allow | None = None
    transport: httpx.BaseTransport | None = None

    def download(self, url: str, dest_dir: Path) -> Path:
        return download(
            url,
            dest_dir,
            max_bytes=self.max_bytes,
            deadline=self.deadline,
            max_redirects=self.max_redirects,
            resolve=self.resolve,
            allow=self.allow,
            transport=self.transport,
        )


DEFAULT_POLICY = DownloadPolicy()


def https_url(url: str, field: str) -> httpx.URL:
    """``url`` if a brief's ``field`` may name it to be fetched (a valid https URL); BriefError
    naming the field otherwise."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise BriefError(field, "is not a valid URL") from None
    if parsed.scheme != "https":
        raise BriefError(field, f"only https URLs are fetched, not {parsed.scheme}")
    return parsed


def fetch_https(
    url: str, dest_dir: Path, *, field: str, policy: DownloadPolicy = DEFAULT_POLICY
) -> Path:
    """The https URL a brief's ``field`` names, downloaded into ``dest_dir`` under ``policy``
    (public addresses only, its size cap and deadline). BriefError names the field and the
    URL's host, never the URL itself (its query may hold a token)."""
    parsed = https_url(url, field)
    try:
        return policy.download(url, dest_dir)
    except (BlockedURL, httpx.HTTPError) as exc:
        raise BriefError(field, f"cannot download from {parsed.host}: {_reason(exc)}") from exc


def _url_of(value: Any) -> str | None:
    if isinstance(value, str) and _URL.match(value.strip()):
        return value.strip()
    return None


def _reason(exc: Exception) -> str:
    """Why a download failed, without the URL (its query may hold a token)."""
    if isinstance(exc, BlockedURL):
        return str(exc)
    if isinstance(exc, httpx.HTTPStatusError):
        return f"the server answered {exc.response.status_code}"
    if isinstance(exc, httpx.InvalidURL):
        return "not a valid URL"
    return f"network error ({type(exc).__name__})"


def fetch_brief_assets(
    data: dict[str, Any], cache_dir: Path, *, policy: DownloadPolicy | None = None
) -> dict[str, Any]:
    """Raw brief data with each http(s) URL in ``product.photos[i]``, ``brand.logo``,
    ``brand.font`` and ``music`` replaced by the path of its download under ``cache_dir``
    (the settings' ``asset_cache``). ``data`` is not changed; without URLs it is returned
    as it is and nothing is touched. BriefError names the field and the URL's host."""
    if not any(_url_of(box[key]) is not None for _, box, key in file_refs(data)):
        return data
    policy = policy or DEFAULT_POLICY
    dest = cache_dir
    out = copy.deepcopy(data)
    done: dict[str, Path] = {}
    for field, box, key in file_refs(out):
        url = _url_of(box[key])
        if url is None:
            continue
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL:
            raise BriefError(field, "is not a valid URL") from None
        if parsed.scheme not in SCHEMES:
            raise BriefError(field, f"only http and https URLs are downloaded, not {parsed.scheme}")
        if url not in done:
            try:
                done[url] = policy.download(url, dest)
            except (BlockedURL, httpx.HTTPError) as exc:
                raise BriefError(
                    field, f"cannot download from {parsed.host}: {_reason(exc)}"
                ) from exc
        box[key] = str(done[url])
    return out


def load_brief_fetching(
    path: Path, cache_dir: Path, *, policy: DownloadPolicy | None = None
) -> Brief:
    """The brief file at ``path``, its http(s) files downloaded first (:func:`fetch_brief_assets`)
    and then validated: the one place a brief's files come from the network."""
    data = read_brief_data(path)
    if isinstance(data, dict):
        data = fetch_brief_assets(data, cache_dir, policy=policy)
    return parse_brief(data, base_dir=path.parent.resolve())
