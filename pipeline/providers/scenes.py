"""Scenes made by a provider, in parallel, each one isolated from the others' failures.

For every photo scene of every format (cards stay drawn offline, they carry the text):
1. the provider makes the clip; a ProviderError other than a rejection is retried once;
2. the clip's file is admitted into the work folder (copied, and accepted only as one MP4, MOV
   or WebM file: ``pipeline.media.inputs``), then checked (length, size, black frames); a clip
   refused or failing its check is regenerated once;
3. a scene that still has no clip falls back to the offline adapter if the brief allows it,
   otherwise the render fails with :class:`SceneFailed` naming the scene and the provider.

A rejection (HTTP 4xx: a bad key, an unknown model, a content-policy refusal) is the user's to
fix, so it fails the render at once with the provider's reason and is never papered over by the
fallback. Every scene runs to its end before the first failure (in scene order) is raised, so one
failing scene does not cancel calls already paid for in the others: their assets land in the cache
and a retried job finds them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import BadInput
from pipeline.media.clipcheck import check_clip_file
from pipeline.media.inputs import admit_clip
from pipeline.providers.errors import ProviderError, ProviderRejected
from pipeline.providers.runtime import ProviderRuntime, SceneSource
from pipeline.providers.sync import run_sync
from pipeline.timeline import StillClip, VideoClip
from pipeline.visuals.port import ClipContext, ClipGenerator, ClipRequest, Credit, Fallback

__all__ = ["ProviderClips", "SceneFailed", "check_clip"]

_log = logging.getLogger(__name__)

Clip = StillClip | VideoClip
WATCH_SECONDS = 0.5  # how often a scene in flight looks whether its job was canceled
Checker = Callable[[Clip, ClipRequest], list[str]]


class SceneFailed(ProviderError):
    """A scene has no clip: its provider failed (after the retry) and there is no fallback."""

    def __init__(self, provider: str, scene: int, format: str, reason: str) -> None:
        self.scene = scene
        self.format = format
        super().__init__(provider, f"scene {scene} ({format}) failed: {reason}")


def check_clip(clip: Clip, request: ClipRequest) -> list[str]:
    """Problems with a provider's clip for ``request``; [] when it can go into the ad."""
    if isinstance(clip, StillClip):
        short = min(clip.width, clip.height)
        return [] if short >= 256 else [f"image is {clip.width}x{clip.height}, too small"]
    return check_clip_file(clip.path, needed=request.duration)


@dataclass
class ProviderClips:
    """A ClipGenerator (and BatchClipGenerator) that asks ``source`` for every photo scene."""

    source: SceneSource
    ctx: ClipContext
    runtime: ProviderRuntime
    offline: ClipGenerator
    fallback: bool = True
    retries: int = 1
    concurrency: int = 4
    check: Checker = check_clip
    fallbacks: list[Fallback] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _checks: dict[tuple[Path, float], list[str]] = field(default_factory=dict, repr=False)

    async def _watched(self, making: Coroutine[object, object, Clip]) -> Clip:
        """Awaits a provider call while checking every WATCH_SECONDS that the job still runs;
        a canceled job cancels the call (its submitted task stays in the journal)."""
        task = asyncio.ensure_future(making)
        while True:
            done, _ = await asyncio.wait({task}, timeout=WATCH_SECONDS)
            if done:
                return task.result()
            try:
                self.runtime.check()
            except BaseException:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
                raise

    async def _checked(
        self, clip: Clip, request: ClipRequest, workdir: Path
    ) -> tuple[Clip, list[str]]:
        """The clip with its file admitted into the work folder, and its problems (why it was
        refused, or its check's), checked once per file and length: 9x16 and 4x5 share a clip."""
        if isinstance(clip, VideoClip):
            try:
                clip = await asyncio.to_thread(
                    admit_clip, clip, workdir, field=f"scene {request.scene_index}", name="its file"
                )
            except BadInput as exc:
                return clip, [f"was refused: {exc.problem}"]
        source = clip.path if isinstance(clip, VideoClip) else clip.image
        memo = (source, request.duration)
        if memo not in self._checks:
            self._checks[memo] = await asyncio.to_thread(self.check, clip, request)
        return clip, self._checks[memo]

    @property
    def credits(self) -> list[Credit]:
        """What the source's assets ask to be credited with (Pexels: videographer and page)."""
        return [
            Credit(provider=self.source.name, text=a.text, author=a.author, url=a.page_url)
            for a in getattr(self.source, "attributions", ())
        ]

    def generate(self, request: ClipRequest, *, workdir: Path) -> Clip:
        return self.generate_many([request], workdir=workdir)[0]

    def generate_many(self, requests: Sequence[ClipRequest], *, workdir: Path) -> list[Clip]:
        return run_sync(self._all(requests, workdir))

    async def _all(self, requests: Sequence[ClipRequest], workdir: Path) -> list[Clip]:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(request: ClipRequest) -> Clip:
            async with gate:
                return await self._scene(request, workdir)

        results = await asyncio.gather(*(one(r) for r in requests), return_exceptions=True)
        clips: list[Clip] = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            clips.append(result)
        return clips

    async def _scene(self, request: ClipRequest, workdir: Path) -> Clip:
        if request.kind != "photo":
            return await asyncio.to_thread(self.offline.generate, request, workdir=workdir)
        name, fmt = self.source.name, request.spec.format.value
        attempt, failures, regenerated = 0, 0, False
        reason = ""
        while True:
            self.runtime.check()
            try:
                clip = await self._watched(
                    self.source.make(
                        request, self.ctx, workdir=workdir, runtime=self.runtime, attempt=attempt
                    )
                )
            except (BadInput, ProviderRejected):
                raise
            except ProviderError as exc:
                failures += 1
                reason = exc.detail.removeprefix(f"{exc.provider}: ")
                _log.warning("scene %d (%s): %s failed: %s", request.scene_index, fmt, name, reason)
                if failures > self.retries:
                    break
                continue
            clip, problems = await self._checked(clip, request, workdir)
            if not problems:
                return clip
            reason = f"the clip {'; '.join(problems)}"
            _log.warning(
                "scene %d (%s): %s clip failed its check: %s",
                request.scene_index,
                fmt,
                name,
                reason,
            )
            if regenerated:
                break
            regenerated, attempt = True, attempt + 1
        if not self.fallback:
            raise SceneFailed(name, request.scene_index, fmt, reason)
        with self._lock:
            self.fallbacks.append(
                Fallback(scene=request.scene_index, format=fmt, provider=name, reason=reason)
            )
        _log.warning("scene %d (%s): using the offline clip instead", request.scene_index, fmt)
        return await asyncio.to_thread(self.offline.generate, request, workdir=workdir)
