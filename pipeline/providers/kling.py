"""Kling's official API as a scene source: the product photo animated (image-to-video), or a
scene written from the prompt alone (text-to-video) when it has no photo.

Shapes follow Kling's API reference (read 2026):
- Image to video (``POST /v1/videos/image2video``, ``GET /v1/videos/image2video/{id}``)
  https://kling.ai/document-api/apiReference/model/imageToVideo
- Text to video (``POST /v1/videos/text2video``, ``GET /v1/videos/text2video/{id}``)
  https://kling.ai/document-api/apiReference/model/textToVideo

The token, the answer envelope, the error codes and task statuses are in
:mod:`pipeline.providers.kling_protocol`; the aspect, duration and cropped reference photo a
Kling model is given (here and on fal) in :mod:`pipeline.providers.video_inputs`.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from pipeline.errors import BadInput
from pipeline.providers.breaker import CircuitBreaker
from pipeline.providers.cache import CachedAsset, cache_key
from pipeline.providers.connections import Connections, Sleep
from pipeline.providers.errors import ProviderError, ProviderRejected
from pipeline.providers.fetch import fetch_result
from pipeline.providers.http import RetryPolicy
from pipeline.providers.kling_protocol import (
    explained,
    kling_token,
    response_data,
    retryable,
    task_status,
)
from pipeline.providers.runtime import ProviderRuntime
from pipeline.providers.tasks import TaskStatus, run_task
from pipeline.providers.video_inputs import (
    photo_input,
    photo_key_input,
    provider_aspect,
    provider_duration,
    reference_jpeg,
)
from pipeline.settings import ProviderSettings
from pipeline.timeline import VideoClip
from pipeline.visuals.port import ClipContext, ClipRequest

__all__ = ["DEFAULT_MODEL", "DEFAULT_TEXT_MODEL", "KLING_BASE_URL", "KlingClips"]

KLING_BASE_URL = "https://api-singapore.klingai.com"  # the documented domain outside China
DEFAULT_MODEL = "kling-v2-1"  # image-to-video
DEFAULT_TEXT_MODEL = "kling-v2-1-master"  # kling-v2-1 itself has no text-to-video
DEFAULT_NEGATIVE_PROMPT = (
    "blur, distortion, warped product, extra objects, text, watermark, low quality"
)
_MAX_PROMPT = 2500  # prompt and negative_prompt "cannot exceed 2500 characters"


@dataclass
class _Task:
    """One task kind's view of the adapter, for run_task: polls the right query endpoint."""

    adapter: KlingClips
    kind: str
    name: str = "kling"

    async def status(self, task_id: str) -> TaskStatus:
        return await self.adapter.status(task_id, kind=self.kind)

    def from_callback(self, payload: Mapping[str, Any]) -> TaskStatus | None:
        return self.adapter.from_callback(payload)


@dataclass(frozen=True)
class _Question:
    """One scene's request to Kling: its endpoint kind, model, prompt and parameters, the cache
    key they make, and the photo it starts from (None: text to video)."""

    kind: str
    model: str
    prompt: str
    params: dict[str, Any]
    key: str
    photo: Path | Image.Image | None


class KlingClips:
    """A SceneSource and TaskProvider for Kling's official API.

    ``model`` animates the product photo (image-to-video); ``text_model`` writes a scene with no
    photo (text-to-video). ``mode`` is ``std`` or ``pro``; ``cfg_scale`` is left out unless given
    (kling-v2.x models do not support it).
    """

    name = "kling"

    def __init__(
        self,
        *,
        access_key: str,
        secret_key: str,
        model: str = DEFAULT_MODEL,
        text_model: str = DEFAULT_TEXT_MODEL,
        mode: str = "std",
        cfg_scale: float | None = None,
        negative_prompt: str = DEFAULT_NEGATIVE_PROMPT,
        base_url: str = KLING_BASE_URL,
        client: httpx.AsyncClient | None = None,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Sleep = asyncio.sleep,
        now: Callable[[], float] = time.time,
    ) -> None:
        if not access_key.strip():
            raise BadInput("KLING_ACCESS_KEY", "is empty")
        if not secret_key.strip():
            raise BadInput("KLING_SECRET_KEY", "is empty")
        if mode not in ("std", "pro"):
            raise BadInput("kling mode", f"must be 'std' or 'pro', not {mode!r}")
        self.model = model
        self.text_model = text_model
        self.mode = mode
        self.cfg_scale = cfg_scale
        self.negative_prompt = negative_prompt[:_MAX_PROMPT]
        self.base_url = base_url.rstrip("/")
        self._access_key = access_key.strip()
        self._secret_key = secret_key.strip()
        # retryable: Kling sends account errors (arrears, resource pack used up) as HTTP 429
        self._connections = Connections(
            self.name, client, policy=policy, breaker=breaker, sleep=sleep, retryable=retryable
        )
        self._sleep = sleep
        self._now = now

    @classmethod
    def from_settings(
        cls,
        settings: ProviderSettings,
        *,
        model: str | None = None,
        client: httpx.AsyncClient | None = None,
        **options: Any,
    ) -> KlingClips:
        """The adapter with the keys from the environment; BadInput naming a missing one."""
        access = settings.key("kling_access")
        secret = settings.key("kling_secret")
        for variable, value in (("KLING_ACCESS_KEY", access), ("KLING_SECRET_KEY", secret)):
            if value is None:
                raise BadInput(
                    variable,
                    "is not set; create an API key at https://app.klingai.com/global/dev/api-key "
                    "and set KLING_ACCESS_KEY and KLING_SECRET_KEY, or choose another clip provider",
                )
        assert access is not None and secret is not None
        chosen = model or settings.clip_model or DEFAULT_MODEL
        return cls(access_key=access, secret_key=secret, model=chosen, client=client, **options)

    # -- the API -------------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        token = kling_token(self._access_key, self._secret_key, now=self._now())
        return {"Authorization": f"Bearer {token}"}

    async def _call(
        self, method: str, path: str, *, once: bool = False, **kwargs: Any
    ) -> dict[str, Any]:
        url = f"{self.base_url}{path}"
        try:
            body = await self._connections.get().json(
                method, url, once=once, headers=self._headers(), **kwargs
            )
        except ProviderRejected as exc:
            raise explained(exc) from exc
        return response_data(body, f"{method} {path}")

    async def submit(self, kind: str, body: Mapping[str, Any]) -> str:
        """Creates a ``text2video`` or ``image2video`` task; its task id.

        Sent ``once``: an answer lost after Kling created the (paid) task is not retried, since
        a retry would create and bill a second one."""
        data = await self._call("POST", f"/v1/videos/{kind}", once=True, json=dict(body))
        task_id = data.get("task_id")
        if not isinstance(task_id, str | int) or isinstance(task_id, bool) or not str(task_id):
            raise ProviderError(self.name, f"POST /v1/videos/{kind} answered without a task_id")
        return str(task_id)

    async def status(self, task_id: str, *, kind: str = "image2video") -> TaskStatus:
        """Queries one task of ``kind`` (the endpoint it was created at)."""
        data = await self._call("GET", f"/v1/videos/{kind}/{task_id}")
        status = task_status(data)
        if status is None:
            raise ProviderError(self.name, f"task {task_id}: an unreadable status {data!r:.200}")
        return status

    def from_callback(self, payload: Mapping[str, Any]) -> TaskStatus | None:
        """A callback body (the query's ``data``; an enveloped one is accepted too)."""
        inner = payload.get("data")
        if isinstance(inner, Mapping) and "task_id" in inner:
            payload = inner
        return task_status(payload)

    # -- the scene source ----------------------------------------------------------------------

    def _question(self, request: ClipRequest, ctx: ClipContext, attempt: int) -> _Question:
        """What this scene asks Kling, and the cache key of the answer."""
        photo = photo_input(request, ctx)
        kind = "text2video" if photo is None else "image2video"
        model = self.text_model if photo is None else self.model
        prompt = request.prompt[:_MAX_PROMPT]
        params: dict[str, Any] = {
            "kind": kind, "aspect_ratio": provider_aspect(request.spec.format),
            "duration": provider_duration(request.duration), "mode": self.mode,
            "cfg_scale": self.cfg_scale, "negative_prompt": self.negative_prompt,
            "attempt": attempt,
        }  # fmt: skip
        # No seed in the key: Kling's API takes none, so the same question gets the same answer
        # whatever the brief's seed (which changes with any edit of the brief).
        key = cache_key(
            self.name, model, prompt=prompt, params=params,
            inputs=[] if photo is None else [photo_key_input(photo)],
        )  # fmt: skip
        return _Question(kind, model, prompt, params, key, photo)

    async def _submit(self, q: _Question, runtime: ProviderRuntime) -> str:
        """Submits the task (the photo as raw base64, no data: prefix, as documented)."""
        body: dict[str, Any] = {
            "model_name": q.model, "prompt": q.prompt, "negative_prompt": self.negative_prompt,
            "mode": self.mode, "duration": str(q.params["duration"]),
            "external_task_id": f"reelforge-{q.key[:24]}-{secrets.token_hex(4)}",
        }  # fmt: skip
        aspect = str(q.params["aspect_ratio"])
        if q.photo is None:
            body["aspect_ratio"] = aspect
        else:
            body["image"] = _b64(await asyncio.to_thread(reference_jpeg, q.photo, aspect))
        if self.cfg_scale is not None:
            body["cfg_scale"] = self.cfg_scale
        if callback := runtime.callback_url(self.name):
            body["callback_url"] = callback
        return await self.submit(q.kind, body)

    async def _generate(
        self, q: _Question, *, workdir: Path, runtime: ProviderRuntime
    ) -> tuple[CachedAsset, TaskStatus]:
        """The task run to its end (resumed from the journal if an earlier attempt submitted
        it), its video downloaded into the cache."""
        status = await run_task(
            _Task(self, q.kind), q.key, lambda: self._submit(q, runtime),
            journal=runtime.journal, inbox=runtime.inbox, poll_interval=runtime.poll_interval,
            deadline=runtime.task_deadline, sleep=self._sleep,
        )  # fmt: skip
        assert status.result_url is not None  # task_status guarantees it on success
        workdir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=workdir, prefix=".kling-") as tmp:
            video = await fetch_result(
                self._connections.get(), status.result_url, Path(tmp) / "clip.mp4"
            )
            meta = {"task_id": status.task_id, "prompt": q.prompt, **q.params}
            asset = runtime.cache.put(q.key, video, provider=self.name, model=q.model, meta=meta)
        return asset, status

    async def make(
        self,
        request: ClipRequest,
        ctx: ClipContext,
        *,
        workdir: Path,
        runtime: ProviderRuntime,
        attempt: int = 0,
    ) -> VideoClip:
        """The scene's clip: from the cache, or generated, downloaded and cached."""
        q = self._question(request, ctx, attempt)
        what = f"scene {request.scene_index} {request.spec.format.value}"
        if (hit := runtime.cache.get(q.key)) is not None:
            runtime.meter.cached(self.name, q.model, what=what)
            return VideoClip(path=hit.path)
        runtime.meter.check(self.name, q.model)
        async with runtime.cache.aclaim(q.key, provider=self.name):
            if (hit := runtime.cache.get(q.key)) is not None:
                runtime.meter.cached(self.name, q.model, what=what)
                return VideoClip(path=hit.path)
            asset, status = await self._generate(q, workdir=workdir, runtime=runtime)
        seconds = status.duration or float(q.params["duration"])
        runtime.meter.record(self.name, q.model, seconds, what=what, task_id=status.task_id)
        return VideoClip(path=asset.path)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
