"""Provider benchmark: scene generation through the real Kling adapter against a simulated Kling
(httpx.MockTransport with latency), the scene orchestrator, clip checks and the cache.

    python bench/provider_bench.py                    # 5 scenes x 4 formats, 0.3 s per call
    python bench/provider_bench.py --scenes 8 --latency 0.5 --concurrency 8

Prints: wall time for a cold batch (every clip generated), the provider calls made and the
generations saved by sharing one 9:16 clip between 9x16 and 4x5, the per-clip check time, and a
warm batch (every clip from the cache: zero calls).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import imageio_ffmpeg
from PIL import Image

from pipeline.formats import FORMATS, Format
from pipeline.palette import KMeansPalette
from pipeline.providers.breaker import CircuitBreaker
from pipeline.providers.cache import ProviderCache
from pipeline.providers.kling import KlingClips
from pipeline.providers.runtime import ProviderRuntime
from pipeline.providers.scenes import ProviderClips, check_clip
from pipeline.timeline import StillClip
from pipeline.visuals import ClipContext, ClipRequest


class SimulatedKling:
    def __init__(self, clip: bytes, latency: float) -> None:
        self.clip, self.latency = clip, latency
        self.calls = {"submit": 0, "status": 0, "download": 0}

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(self.latency)
        if request.url.host == "cdn.test":
            self.calls["download"] += 1
            return httpx.Response(200, content=self.clip)
        if request.method == "POST":
            self.calls["submit"] += 1
            n = self.calls["submit"]
            return httpx.Response(
                200, json={"code": 0, "data": {"task_id": f"t{n}", "task_status": "submitted"}}
            )
        self.calls["status"] += 1
        task = request.url.path.rsplit("/", 1)[1]
        return httpx.Response(200, json={"code": 0, "data": {
            "task_id": task, "task_status": "succeed",
            "task_result": {"videos": [{"id": task, "url": f"https://cdn.test/{task}.mp4", "duration": "5"}]},
        }})  # fmt: skip


class Offline:
    def generate(self, request: ClipRequest, *, workdir: Path) -> StillClip:
        raise AssertionError("the benchmark has no fallbacks")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenes", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.3, help="seconds per provider call")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        clip = tmp / "clip.mp4"
        subprocess.run(
            [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi",
             "-i", "testsrc2=s=720x1280:d=5:r=30", "-c:v", "libx264", "-preset", "ultrafast",
             "-pix_fmt", "yuv420p", str(clip)],
            check=True,
        )  # fmt: skip
        photo_path = tmp / "photo.png"
        Image.new("RGB", (800, 800), (180, 90, 40)).save(photo_path)
        photo = Image.open(photo_path).convert("RGB")
        ctx = ClipContext(
            photos=[photo], palette=KMeansPalette().extract([photo], locale="en"),
            font_path=Path("x.ttf"), product_name="Cup", price="$1", logo=None,
            photo_paths=[photo_path],
        )  # fmt: skip
        requests = [
            ClipRequest(
                scene_index=i,
                kind="photo",
                photo=0,
                text="",
                prompt=f"scene {i} of the cup",
                duration=3.0,
                spec=FORMATS[f],
                seed=i,
            )
            for f in Format
            for i in range(args.scenes)
        ]
        kling = SimulatedKling(clip.read_bytes(), args.latency)

        async def no_wait(seconds: float) -> None:
            await asyncio.sleep(0)

        source = KlingClips(
            access_key="ak", secret_key="bench-secret-key-of-thirty-two-b",
            client=httpx.AsyncClient(transport=httpx.MockTransport(kling)),
            breaker=CircuitBreaker("kling-bench", failure_threshold=1000), sleep=no_wait,
        )  # fmt: skip
        runtime = ProviderRuntime(cache=ProviderCache(tmp / "cache"), poll_interval=0.0)
        clips = ProviderClips(source=source, ctx=ctx, runtime=runtime, offline=Offline(),
                              fallback=False, concurrency=args.concurrency)  # fmt: skip

        started = time.perf_counter()
        made = clips.generate_many(requests, workdir=tmp / "work")
        cold = time.perf_counter() - started
        cold_calls = dict(kling.calls)

        started = time.perf_counter()
        for request, c in zip(requests, made, strict=True):
            check_clip(c, request)
        check_each = (time.perf_counter() - started) / len(made)

        # another job asking the same: a fresh orchestrator, the shared cache
        again = ProviderClips(source=source, ctx=ctx, runtime=runtime, offline=Offline(),
                              fallback=False, concurrency=args.concurrency)  # fmt: skip
        started = time.perf_counter()
        again.generate_many(requests, workdir=tmp / "work")
        warm = time.perf_counter() - started
        warm_calls = {k: kling.calls[k] - cold_calls[k] for k in kling.calls}

        print(json.dumps({
            "scenes x formats": len(requests),
            "provider latency s": args.latency,
            "concurrency": args.concurrency,
            "cold batch s": round(cold, 2),
            "cold calls": cold_calls,
            "generations": cold_calls["submit"],
            "generations saved by shared aspect": len(requests) - cold_calls["submit"],
            "clip check s each": round(check_each, 3),
            "warm batch s": round(warm, 3),
            "warm calls": warm_calls,
            "credits": runtime.meter.credits,
        }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
