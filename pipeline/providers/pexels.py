"""Pexels stock footage: a scene's keywords in, a stock clip of the format's orientation out.

API, from https://www.pexels.com/api/documentation/#videos-search (and #videos-overview):

- ``GET https://api.pexels.com/videos/search?query=&orientation=landscape|portrait|square
  &size=large|medium|small&page=&per_page=`` (``per_page`` at most 80), header
  ``Authorization: <API key>``: the raw key, no scheme. The answer and what is chosen from it
  are in :mod:`pipeline.providers.pexels_videos`, the query in
  :mod:`pipeline.providers.pexels_query`.
- Rate limits: 200 requests an hour and 20,000 a month by default; responses carry
  ``X-Ratelimit-Limit``, ``X-Ratelimit-Remaining`` and ``X-Ratelimit-Reset`` (the UNIX time the
  monthly period rolls over); past the limit the answer is 429. Error bodies are not documented, so
  the shared client reports whatever text or JSON comes back.
- Guidelines: credit the videographer and link back to Pexels, hence :attr:`PexelsStock.attributions`.

Searches are cached for a day by query and orientation (Pexels' help centre asks clients to
cache responses, https://help.pexels.com/hc/en-us/articles/900006470063), and files for good by
their Pexels file id, so a stock clip is found again by every job that asks for it without a
request.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from pipeline.errors import BadInput
from pipeline.providers.breaker import CircuitBreaker, breaker_for
from pipeline.providers.cache import CachedAsset, cache_key
from pipeline.providers.connections import provider_session
from pipeline.providers.errors import ProviderError, ProviderRateLimited, ProviderRejected
from pipeline.providers.fetch import fetch_result
from pipeline.providers.http import AsyncProviderClient, RetryPolicy
from pipeline.providers.pexels_query import (
    Orientation,
    fallback_queries,
    orientation_for,
    search_size,
    search_terms,
)
from pipeline.providers.pexels_videos import (
    PexelsFile,
    PexelsVideo,
    StockAttribution,
    attribution,
    file_meta,
    parse_videos,
    pick_file,
    rank_videos,
    read_videos,
)
from pipeline.providers.runtime import ProviderRuntime
from pipeline.settings import ProviderSettings
from pipeline.timeline import VideoClip
from pipeline.visuals.port import ClipContext, ClipRequest

__all__ = ["SEARCH_URL", "PexelsClips", "PexelsStock", "RateLimit"]

SEARCH_URL = "https://api.pexels.com/videos/search"
# Pexels' help centre suggests caching answers for 24 hours: its links do not change sooner.
SEARCH_TTL = 24 * 3600.0
KEY_ENV = "PEXELS_API_KEY"


class RateLimit(BaseModel):
    """Pexels' quota as its last answer reported it."""

    model_config = ConfigDict(frozen=True)

    limit: int
    remaining: int
    reset: datetime | None = None  # when the monthly period rolls over


def _rate_limit(headers: httpx.Headers) -> RateLimit | None:
    try:
        limit = int(headers["X-Ratelimit-Limit"])
        remaining = int(headers["X-Ratelimit-Remaining"])
    except (KeyError, ValueError):
        return None
    reset: datetime | None = None
    with contextlib.suppress(KeyError, ValueError, OverflowError, OSError):
        reset = datetime.fromtimestamp(int(headers["X-Ratelimit-Reset"]), UTC)
    return RateLimit(limit=limit, remaining=remaining, reset=reset)


class PexelsStock:
    """Pexels video search as a :class:`~pipeline.providers.runtime.SceneSource` (``make``) for
    stock scenes.

    Pexels is free; calls are still metered (``pexels`` rows of the price table, unit ``call``)
    so a job's report shows them.
    """

    name = "pexels"

    def __init__(
        self,
        api_key: str,
        *,
        model: str = "videos",
        client: httpx.AsyncClient | None = None,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        per_page: int = 15,
        search_ttl: float = SEARCH_TTL,
    ) -> None:
        if not api_key.strip():
            raise BadInput(KEY_ENV, "is empty")
        if not 1 <= per_page <= 80:
            raise ValueError("per_page must be between 1 and 80")
        self.model = model
        self._key = api_key.strip()
        self._client = client
        self._policy = policy
        self._breaker = breaker or breaker_for(self.name)
        self._sleep = sleep
        self.per_page = per_page
        self.search_ttl = search_ttl
        self.rate_limit: RateLimit | None = None
        self._lock = threading.Lock()
        self._credits: dict[int, StockAttribution] = {}

    @classmethod
    def from_settings(
        cls,
        settings: ProviderSettings,
        *,
        model: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> PexelsStock:
        key = settings.key("pexels")
        if key is None:
            raise BadInput(KEY_ENV, "is not set; get a free key at https://www.pexels.com/api/new/")
        return cls(key, model=model or "videos", client=client)

    @property
    def attributions(self) -> list[StockAttribution]:
        """Credits for every clip :meth:`make` returned, in first-use order (for the manifest)."""
        with self._lock:
            return list(self._credits.values())

    def _session(self) -> contextlib.AbstractAsyncContextManager[AsyncProviderClient]:
        return provider_session(
            self.name, self._client, policy=self._policy, breaker=self._breaker, sleep=self._sleep,
        )  # fmt: skip

    def _params(self, query: str, orientation: Orientation, size: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {"query": query, "orientation": orientation}
        if size:
            params["size"] = size
        params.update(page=1, per_page=self.per_page)
        return params

    async def _search_raw(
        self, session: AsyncProviderClient, params: Mapping[str, Any]
    ) -> tuple[bytes, Any]:
        try:
            response = await session.request(
                "GET", SEARCH_URL, params=dict(params), headers={"Authorization": self._key}
            )
        except ProviderRateLimited as exc:
            raise ProviderRateLimited(
                self.name,
                f"{exc.detail.removeprefix('pexels: ')}; {self._quota_hint()}",
                status=exc.status,
                provider_message=exc.provider_message,
                retry_after=exc.retry_after,
            ) from exc
        except ProviderRejected as exc:
            if exc.status in (401, 403):
                raise ProviderRejected(
                    self.name,
                    f"{exc.detail.removeprefix('pexels: ')} (check {KEY_ENV})",
                    status=exc.status,
                    provider_message=exc.provider_message,
                ) from exc
            raise
        self.rate_limit = _rate_limit(response.headers) or self.rate_limit
        try:
            body = response.json()
        except ValueError as exc:
            raise ProviderError(
                self.name,
                f"video search returned malformed JSON (HTTP {response.status_code}): {exc}",
                status=response.status_code,
            ) from exc
        return response.content, body

    def _quota_hint(self) -> str:
        known = self.rate_limit
        if known is None:
            return "Pexels allows 200 requests an hour and 20,000 a month by default"
        when = f", resets {known.reset:%Y-%m-%d %H:%M} UTC" if known.reset else ""
        return f"Pexels' last answer left {known.remaining} of {known.limit} requests{when}"

    def _read_search(self, asset: CachedAsset | None) -> list[PexelsVideo] | None:
        """A cached search younger than ``search_ttl``; None to search again."""
        if asset is None:
            return None
        searched_at = asset.meta.get("searched_at")
        if not isinstance(searched_at, int | float) or time.time() - searched_at > self.search_ttl:
            return None
        return read_videos(asset.path)

    async def _cached_search(
        self,
        session: AsyncProviderClient,
        query: str,
        orientation: Orientation,
        size: str | None,
        *,
        workdir: Path,
        runtime: ProviderRuntime,
        what: str,
    ) -> list[PexelsVideo]:
        params = self._params(query, orientation, size)
        key = cache_key(self.name, f"{self.model}/search", prompt=query, params=params)
        found = self._read_search(runtime.cache.get(key))
        if found is None:
            async with runtime.cache.aclaim(key, provider=self.name):
                found = self._read_search(runtime.cache.get(key))
                if found is None:
                    runtime.meter.check(self.name, self.model)
                    raw, body = await self._search_raw(session, params)
                    videos = parse_videos(body)
                    runtime.meter.record(self.name, self.model, 1, what=f"search {what}")
                    workdir.mkdir(parents=True, exist_ok=True)
                    tmp = workdir / f".pexels-search-{key[:16]}.json"
                    tmp.write_bytes(raw)
                    try:
                        runtime.cache.put(
                            key,
                            tmp,
                            provider=self.name,
                            model=self.model,
                            meta={
                                "query": query,
                                "orientation": orientation,
                                "size": size,
                                "searched_at": time.time(),
                            },
                        )
                    finally:
                        tmp.unlink(missing_ok=True)
                    return videos
        runtime.meter.cached(self.name, self.model, what=f"search {what}")
        return found

    async def make(
        self,
        request: ClipRequest,
        ctx: ClipContext,
        *,
        workdir: Path,
        runtime: ProviderRuntime,
        attempt: int = 0,
    ) -> VideoClip:
        """A stock clip for the scene: searched by its keywords in the format's orientation,
        long enough if Pexels has one, downloaded once into the shared cache.

        ``attempt`` 1 (a regeneration after a failed clip check) takes the next-best video.
        """
        spec = request.spec
        shape = orientation_for(spec.format)
        what = f"scene {request.scene_index} {spec.format.value}"
        scene_text = request.prompt or request.text or request.spoken
        query = search_terms(scene_text, product=ctx.product_name, locale=ctx.palette.locale)
        if not query:
            raise BadInput(f"scene {request.scene_index}", "has no words to search stock video for")
        async with self._session() as session:
            ranked: list[PexelsVideo] = []
            for q in fallback_queries(query):
                videos = await self._cached_search(
                    session,
                    q,
                    shape,
                    search_size(spec),
                    workdir=workdir,
                    runtime=runtime,
                    what=what,
                )
                ranked = rank_videos(videos, shape, request.duration)
                if ranked:
                    break
            if not ranked:
                raise ProviderError(
                    self.name, f"no {shape} stock video found for {query!r} ({what})"
                )
            video = ranked[attempt % len(ranked)]
            chosen = pick_file(video, spec.width, spec.height)
            assert chosen is not None  # rank_videos keeps only videos with an MP4
            asset = await self._file(
                session, video, chosen, workdir=workdir, runtime=runtime, what=what
            )
        credit = attribution(video)
        with self._lock:
            self._credits.setdefault(credit.video_id, credit)
        return VideoClip(path=asset.path)

    async def _file(
        self,
        session: AsyncProviderClient,
        video: PexelsVideo,
        chosen: PexelsFile,
        *,
        workdir: Path,
        runtime: ProviderRuntime,
        what: str,
    ) -> CachedAsset:
        key = cache_key(self.name, self.model, params={"video_file_id": chosen.id})
        asset = runtime.cache.get(key)
        if asset is None:
            async with runtime.cache.aclaim(key, provider=self.name):
                asset = runtime.cache.get(key)
                if asset is None:
                    # The file is a CDN download, not an API request: nothing to meter.
                    dest = workdir / f".pexels-{chosen.id}.mp4"
                    await fetch_result(session, chosen.link, dest)
                    try:
                        return runtime.cache.put(
                            key,
                            dest,
                            provider=self.name,
                            model=self.model,
                            meta=file_meta(video, chosen),
                        )
                    finally:
                        dest.unlink(missing_ok=True)
        runtime.meter.cached(self.name, self.model, what=what)
        return asset


# The clips stage's name for it (pipeline/wiring/ports.py).
PexelsClips = PexelsStock
