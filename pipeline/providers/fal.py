"""fal's scene sources: video models on fal's queue (Kling on fal by default), and FLUX stills (a
generated image, moved like a product photo).

Shapes follow fal's model pages (read 2026):
- Kling 2.1 standard image-to-video (prompt, image_url, duration "5"|"10", negative_prompt,
  cfg_scale → ``{video: {url, content_type, file_name, file_size}}``)
  https://fal.ai/models/fal-ai/kling-video/v2.1/standard/image-to-video/api
- Kling 2.1 master text-to-video (prompt, duration, aspect_ratio "16:9"|"9:16"|"1:1", …)
  https://fal.ai/models/fal-ai/kling-video/v2.1/master/text-to-video/api

The queue is :mod:`pipeline.providers.fal_queue`, FLUX images :mod:`pipeline.providers.flux`.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from pipeline.images import load_rgb
from pipeline.providers.breaker import CircuitBreaker
from pipeline.providers.cache import cache_key
from pipeline.providers.connections import Sleep
from pipeline.providers.fal_queue import FAL_QUEUE_URL, FalQueue, app_id, fal_key
from pipeline.providers.flux import FalImages, flux_size
from pipeline.providers.http import RetryPolicy
from pipeline.providers.runtime import ProviderRuntime
from pipeline.providers.tasks import TaskStatus
from pipeline.providers.video_inputs import (
    photo_input,
    photo_key_input,
    provider_aspect,
    provider_duration,
    reference_jpeg,
)
from pipeline.settings import ProviderSettings
from pipeline.timeline import StillClip, VideoClip
from pipeline.visuals.photo_motion import PhotoMotionClips
from pipeline.visuals.port import ClipContext, ClipRequest

__all__ = [
    "DEFAULT_NEGATIVE_PROMPT",
    "DEFAULT_TEXT_VIDEO_MODEL",
    "DEFAULT_VIDEO_MODEL",
    "FalClips",
    "FluxStills",
]

DEFAULT_VIDEO_MODEL = "fal-ai/kling-video/v2.1/standard/image-to-video"
DEFAULT_TEXT_VIDEO_MODEL = "fal-ai/kling-video/v2.1/master/text-to-video"  # 2.1 standard has none
DEFAULT_NEGATIVE_PROMPT = "blur, distort, and low quality"  # the Kling endpoints' own default
_SCENE_PIXELS = 1024 * 1024  # enough: a still moves at most at 60% of the output width


def _scene_size(aspect: str) -> tuple[int, int]:
    across, down = (int(n) for n in aspect.split(":"))
    return flux_size(across * 1000, down * 1000, max_pixels=_SCENE_PIXELS)


def _data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


class FalClips:
    """A SceneSource (and TaskProvider) for video models on fal's queue.

    ``model`` animates the scene's product photo, sent as a data URI cropped to the format's
    aspect; ``text_model`` makes scenes without a photo. The defaults are Kling 2.1 on fal;
    another video model works if it takes the same fields (``durations`` lists its lengths).
    """

    name = "fal"

    def __init__(
        self,
        api_key: str,
        *,
        model: str = DEFAULT_VIDEO_MODEL,
        text_model: str = DEFAULT_TEXT_VIDEO_MODEL,
        durations: tuple[int, ...] = (5, 10),
        negative_prompt: str = DEFAULT_NEGATIVE_PROMPT,
        cfg_scale: float = 0.5,
        base_url: str = FAL_QUEUE_URL,
        client: httpx.AsyncClient | None = None,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        app_id(model)  # validates the ids
        app_id(text_model)
        self.model = model
        self.text_model = text_model
        self.durations = durations
        self.negative_prompt = negative_prompt
        self.cfg_scale = cfg_scale
        self.queue = FalQueue(
            api_key, base_url=base_url, client=client, policy=policy, breaker=breaker, sleep=sleep
        )

    @classmethod
    def from_settings(
        cls,
        settings: ProviderSettings,
        *,
        model: str | None = None,
        client: httpx.AsyncClient | None = None,
        **options: Any,
    ) -> FalClips:
        chosen = model or settings.clip_model or DEFAULT_VIDEO_MODEL
        return cls(fal_key(settings), model=chosen, client=client, **options)

    async def status(self, task_id: str) -> TaskStatus:
        return await self.queue.status(task_id, model=self.model)

    def from_callback(self, payload: Mapping[str, Any]) -> TaskStatus | None:
        return self.queue.from_callback(payload)

    async def make(
        self,
        request: ClipRequest,
        ctx: ClipContext,
        *,
        workdir: Path,
        runtime: ProviderRuntime,
        attempt: int = 0,
    ) -> VideoClip:
        """The scene's clip: from the cache, or generated on fal, downloaded and cached."""
        aspect = provider_aspect(request.spec.format)
        seconds = provider_duration(request.duration, self.durations)
        photo = photo_input(request, ctx)
        model = self.text_model if photo is None else self.model
        params: dict[str, Any] = {
            "aspect_ratio": aspect,
            "duration": seconds,
            "negative_prompt": self.negative_prompt,
            "cfg_scale": self.cfg_scale,
            "attempt": attempt,
        }
        # No seed in the key: the arguments below carry none (Kling on fal takes none), so the
        # same question gets the same answer whatever the brief's seed.
        key = cache_key(
            self.name,
            model,
            prompt=request.prompt,
            params=params,
            inputs=[] if photo is None else [photo_key_input(photo)],
        )
        what = f"scene {request.scene_index} {request.spec.format.value}"
        if (hit := runtime.cache.get(key)) is not None:
            runtime.meter.cached(self.name, model, what=what)
            return VideoClip(path=hit.path)
        runtime.meter.check(self.name, model)
        async with runtime.cache.aclaim(key, provider=self.name):
            if (hit := runtime.cache.get(key)) is not None:
                runtime.meter.cached(self.name, model, what=what)
                return VideoClip(path=hit.path)
            arguments: dict[str, Any] = {
                "prompt": request.prompt,
                "duration": str(seconds),
                "negative_prompt": self.negative_prompt,
                "cfg_scale": self.cfg_scale,
            }
            if photo is None:
                arguments["aspect_ratio"] = aspect
            else:
                jpeg = await asyncio.to_thread(reference_jpeg, photo, aspect)
                arguments["image_url"] = _data_uri(jpeg)
            status = await self.queue.run(model, key, arguments, runtime)
            asset = await self.queue.fetch(
                status, key, runtime=runtime, model=model, workdir=workdir, suffix=".mp4",
                meta={"prompt": request.prompt, **params},
            )  # fmt: skip
        runtime.meter.record(self.name, model, float(seconds), what=what, task_id=status.task_id)
        return VideoClip(path=asset.path)


class FluxStills:
    """A SceneSource: a FLUX image for the scene, moved like a product photo (the offline
    Ken Burns motion, with the generated image as the only photo).

    The image is made at the aspect a video provider would use (4x5 shares the 9:16 image, the
    motion crops it to cover), so formats of one aspect share one paid image.
    """

    name = "fal"

    def __init__(self, images: FalImages) -> None:
        self.images = images
        self.model = images.model

    @classmethod
    def from_settings(
        cls,
        settings: ProviderSettings,
        *,
        model: str | None = None,
        client: httpx.AsyncClient | None = None,
        **options: Any,
    ) -> FluxStills:
        return cls(FalImages.from_settings(settings, model=model, client=client, **options))

    async def status(self, task_id: str) -> TaskStatus:
        return await self.images.status(task_id)

    def from_callback(self, payload: Mapping[str, Any]) -> TaskStatus | None:
        return self.images.from_callback(payload)

    async def make(
        self,
        request: ClipRequest,
        ctx: ClipContext,
        *,
        workdir: Path,
        runtime: ProviderRuntime,
        attempt: int = 0,
    ) -> StillClip:
        """The scene's still (cached per aspect, prompt, seed and attempt), with motion."""
        image = await self.images.image(
            request.prompt,
            size=_scene_size(provider_aspect(request.spec.format)),
            workdir=workdir,
            runtime=runtime,
            seed=request.seed,
            attempt=attempt,
            what=f"scene {request.scene_index} {request.spec.format.value}",
        )
        return await asyncio.to_thread(_moving_still, image.path, request, ctx, workdir)


def _moving_still(path: Path, request: ClipRequest, ctx: ClipContext, workdir: Path) -> StillClip:
    still = load_rgb(path, field=f"scene {request.scene_index}")
    motion = PhotoMotionClips(
        photos=[still], palette=ctx.palette, font_path=ctx.font_path,
        product_name=ctx.product_name, price=ctx.price, logo=ctx.logo,
    )  # fmt: skip
    workdir.mkdir(parents=True, exist_ok=True)
    return motion.generate(
        request.model_copy(update={"kind": "photo", "photo": 0}), workdir=workdir
    )
