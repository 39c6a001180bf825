"""A fake clip provider for tests and dry runs: real video made locally, billed like a provider.

It behaves as a generative SceneSource should (cache first, then a priced "call"), renders an
actual H.264 clip with FFmpeg's test source so everything downstream (clip checks, composition,
probing) is exercised for real, and can be told to fail per scene.
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from pipeline.media.ffmpeg import ffmpeg_exe
from pipeline.providers.cache import cache_key
from pipeline.providers.runtime import ProviderRuntime
from pipeline.timeline import StillClip, VideoClip
from pipeline.visuals.port import ClipContext, ClipRequest

__all__ = ["FakeClipSource"]

Failure = Callable[[ClipRequest, int], Exception | None]


class FakeClipSource:
    """``fail(request, attempt)`` returns the error a call should raise, or None to succeed.

    ``calls`` counts paid calls; ``seconds`` is the length of every clip (a provider's fixed
    5 s, by default); it is priced as provider ``name`` (give the meter a table with its row).
    """

    def __init__(
        self,
        name: str = "kling",
        model: str = "fake-1",
        *,
        seconds: float = 5.0,
        size: tuple[int, int] = (540, 960),
        fail: Failure | None = None,
        colour: str = "testsrc2",
    ) -> None:
        self.name = name
        self.model = model
        self.seconds = seconds
        self.size = size
        self.fail = fail
        self.colour = colour
        self.calls = 0

    async def make(
        self,
        request: ClipRequest,
        ctx: ClipContext,
        *,
        workdir: Path,
        runtime: ProviderRuntime,
        attempt: int = 0,
    ) -> StillClip | VideoClip:
        key = cache_key(
            self.name, self.model, prompt=request.prompt, seed=request.seed,
            params={"seconds": self.seconds, "size": self.size, "attempt": attempt},
        )  # fmt: skip
        what = f"scene {request.scene_index} {request.spec.format.value}"
        async with runtime.cache.aclaim(key, provider=self.name):
            hit = runtime.cache.get(key)
            if hit is not None:
                runtime.meter.cached(self.name, self.model, what=what)
                return VideoClip(path=hit.path)
            runtime.meter.check(self.name, self.model)
            error = self.fail(request, attempt) if self.fail else None
            if error is not None:
                raise error
            self.calls += 1
            with tempfile.TemporaryDirectory(dir=workdir) as tmp:
                clip = Path(tmp) / "clip.mp4"
                await asyncio.to_thread(self._render, clip)
                entry = runtime.cache.put(key, clip, provider=self.name, model=self.model)
            runtime.meter.record(self.name, self.model, self.seconds, what=what)
            return VideoClip(path=entry.path)

    def _render(self, out: Path) -> None:
        w, h = self.size
        source = f"{self.colour}=s={w}x{h}:d={self.seconds}:r=30"
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", source,
             "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(out)],
            check=True,
        )  # fmt: skip
