"""FLUX on fal as an image generator: an image of a given size from a prompt, cached.

Shapes follow fal's model pages (read 2026):
- FLUX.1 [schnell] and [dev] (prompt, image_size enum or ``{width, height}``,
  num_inference_steps, seed, num_images, enable_safety_checker, output_format →
  ``{images: [{url, width, height, content_type}], seed, has_nsfw_concepts, …}``)
  https://fal.ai/models/fal-ai/flux/schnell/api , https://fal.ai/models/fal-ai/flux/dev/api

The queue these requests go through is :mod:`pipeline.providers.fal_queue`.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import httpx

from pipeline.errors import BadInput
from pipeline.images import load_rgb
from pipeline.providers.breaker import CircuitBreaker
from pipeline.providers.cache import cache_key
from pipeline.providers.connections import Sleep
from pipeline.providers.errors import ProviderError
from pipeline.providers.fal_queue import FAL_QUEUE_URL, FalQueue, app_id, fal_key
from pipeline.providers.http import RetryPolicy
from pipeline.providers.runtime import ProviderRuntime
from pipeline.providers.tasks import TaskStatus
from pipeline.settings import ProviderSettings
from pipeline.visuals.port import GeneratedImage

__all__ = ["DEFAULT_IMAGE_MODEL", "FalImages", "flux_size"]

DEFAULT_IMAGE_MODEL = "fal-ai/flux/schnell"
_STEPS = {"fal-ai/flux/schnell": 4, "fal-ai/flux/dev": 28}  # the documented defaults
_MAX_PIXELS = 2048 * 1024


def flux_size(width: int, height: int, *, max_pixels: int = _MAX_PIXELS) -> tuple[int, int]:
    """``width`` x ``height`` as FLUX renders it: scaled down to at most ``max_pixels``, each side
    a multiple of 16 (FLUX's latent grid) and at least 256."""
    if width <= 0 or height <= 0:
        raise ValueError("width and height must be positive")
    scale = min(1.0, math.sqrt(max_pixels / (width * height)))

    def side(value: int) -> int:
        return max(256, int(value * scale) // 16 * 16)

    return side(width), side(height)


class FalImages:
    """FLUX on fal: :meth:`image` makes a cached image of a given size (and it is a
    TaskProvider); :class:`~pipeline.providers.fal.FluxStills` makes scenes from it.
    """

    name = "fal"

    def __init__(
        self,
        api_key: str,
        *,
        model: str = DEFAULT_IMAGE_MODEL,
        steps: int | None = None,
        safety_checker: bool = True,
        output_format: str = "png",
        base_url: str = FAL_QUEUE_URL,
        client: httpx.AsyncClient | None = None,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        app_id(model)
        if output_format not in ("png", "jpeg"):
            raise BadInput("fal output_format", f"must be 'png' or 'jpeg', not {output_format!r}")
        self.model = model
        self.steps = steps or _STEPS.get(model)
        self.safety_checker = safety_checker
        self.output_format = output_format
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
    ) -> FalImages:
        chosen = model or settings.image_model or DEFAULT_IMAGE_MODEL
        return cls(fal_key(settings), model=chosen, client=client, **options)

    async def status(self, task_id: str) -> TaskStatus:
        return await self.queue.status(task_id, model=self.model)

    def from_callback(self, payload: Mapping[str, Any]) -> TaskStatus | None:
        return self.queue.from_callback(payload)

    async def image(
        self,
        prompt: str,
        *,
        size: tuple[int, int],
        workdir: Path,
        runtime: ProviderRuntime,
        seed: int | None = None,
        attempt: int = 0,
        what: str = "image",
    ) -> GeneratedImage:
        """An image of exactly ``size`` (use :func:`flux_size`): cached, or generated on fal."""
        width, height = size
        params: dict[str, Any] = {
            "width": width,
            "height": height,
            "steps": self.steps,
            "safety_checker": self.safety_checker,
            "output_format": self.output_format,
            "attempt": attempt,
        }
        key = cache_key(self.name, self.model, prompt=prompt, params=params, seed=seed)
        if (hit := runtime.cache.get(key)) is not None:
            runtime.meter.cached(self.name, self.model, what=what)
            return _generated(hit.path, self.name)
        runtime.meter.check(self.name, self.model)
        async with runtime.cache.aclaim(key, provider=self.name):
            if (hit := runtime.cache.get(key)) is not None:
                runtime.meter.cached(self.name, self.model, what=what)
                return _generated(hit.path, self.name)
            arguments: dict[str, Any] = {
                "prompt": prompt,
                "image_size": {"width": width, "height": height},
                "num_images": 1,
                "enable_safety_checker": self.safety_checker,
                "output_format": self.output_format,
            }
            if self.steps is not None:
                arguments["num_inference_steps"] = self.steps
            if seed is not None:
                arguments["seed"] = seed
            status = await self.queue.run(self.model, key, arguments, runtime)
            assert status.result_url is not None
            asset = await self.queue.fetch(
                status, key, runtime=runtime, model=self.model, workdir=workdir,
                suffix=_suffix(status.result_url, self.output_format), meta={"prompt": prompt, **params},
            )  # fmt: skip
        runtime.meter.record(self.name, self.model, 1, what=what, task_id=status.task_id)
        return _generated(asset.path, self.name)


def _generated(path: Path, provider: str) -> GeneratedImage:
    """The provider's image, decoded as any untrusted image is (allowed formats, pixel limit);
    a ProviderError (retried, or the scene falls back) if it is not one."""
    try:
        width, height = load_rgb(path, field="image").size
    except BadInput as exc:
        raise ProviderError(provider, f"its image was refused: {exc.problem}") from None
    return GeneratedImage(path=path, width=width, height=height)


def _suffix(url: str, output_format: str) -> str:
    suffix = PurePosixPath(httpx.URL(url).path).suffix.lower()
    if suffix in (".png", ".jpg", ".jpeg", ".webp"):
        return suffix
    return ".png" if output_format == "png" else ".jpg"
