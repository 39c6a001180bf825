"""ProviderClips: scenes in parallel, retried, checked, regenerated, falling back or failing by name."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest
from PIL import Image

from pipeline.formats import FORMATS, Format
from pipeline.palette import KMeansPalette
from pipeline.providers.cache import ProviderCache
from pipeline.providers.errors import ProviderRejected, ProviderUnavailable
from pipeline.providers.runtime import ProviderRuntime
from pipeline.providers.scenes import ProviderClips, SceneFailed, check_clip
from pipeline.timeline import StillClip, VideoClip
from pipeline.visuals.port import ClipContext, ClipRequest

pytestmark = pytest.mark.integration


def _video(path: Path, source: str, seconds: float = 2.0, size: str = "640x640") -> Path:
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi",
         "-i", f"{source}{'' if source.endswith(':') else '='}s={size}:d={seconds}:r=10", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("clips")
    return {
        "good": _video(root / "good.mp4", "testsrc"),
        "black": _video(root / "black.mp4", "color=c=black:"),
        "short": _video(root / "short.mp4", "testsrc", seconds=0.5),
        "tiny": _video(root / "tiny.mp4", "testsrc", size="160x120"),
    }


class Source:
    """A SceneSource that plays a script: per (scene, attempt) what to do on each call."""

    name = "fakegen"
    model = "m1"

    def __init__(self, plan: dict[int, list[Any]]) -> None:
        self.plan = plan
        self.calls: list[tuple[int, str, int]] = []

    async def make(self, request: ClipRequest, ctx: ClipContext, *, workdir: Path,
                   runtime: ProviderRuntime, attempt: int = 0) -> StillClip | VideoClip:  # fmt: skip
        self.calls.append((request.scene_index, request.spec.format.value, attempt))
        steps = self.plan.get(request.scene_index, [])
        n = sum(
            1
            for c in self.calls
            if c[0] == request.scene_index and c[1] == request.spec.format.value
        )
        step = steps[min(n - 1, len(steps) - 1)] if steps else None
        if isinstance(step, Exception):
            raise step
        assert isinstance(step, Path)
        return VideoClip(path=step)


class Offline:
    def __init__(self, image: Path) -> None:
        self.image = image
        self.made: list[int] = []

    def generate(self, request: ClipRequest, *, workdir: Path) -> StillClip:
        self.made.append(request.scene_index)
        return StillClip(image=self.image, width=720, height=1280)


@pytest.fixture
def ctx() -> ClipContext:
    photo = Image.new("RGB", (64, 64), (200, 120, 40))
    palette = KMeansPalette().extract([photo], locale="en")
    return ClipContext(photos=[photo], palette=palette, font_path=Path("x.ttf"),
                       product_name="Cup", price="€9", logo=None)  # fmt: skip


def _requests(n: int, fmt: Format = Format.V9X16, kind: str = "photo") -> list[ClipRequest]:
    return [
        ClipRequest(
            scene_index=i,
            kind=kind,
            photo=0,
            text="",
            prompt=f"scene {i}",
            duration=1.5,
            spec=FORMATS[fmt],
        )
        for i in range(n)
    ]


def _clips(
    source: Source, ctx: ClipContext, tmp_path: Path, *, fallback: bool
) -> tuple[ProviderClips, Offline]:
    still = tmp_path / "still.png"
    Image.new("RGB", (720, 1280)).save(still)
    offline = Offline(still)
    runtime = ProviderRuntime(cache=ProviderCache(tmp_path / "cache"))
    return ProviderClips(
        source=source, ctx=ctx, runtime=runtime, offline=offline, fallback=fallback
    ), offline


def test_every_scene_comes_from_the_provider_when_it_works(
    clips: dict[str, Path], ctx: ClipContext, tmp_path: Path
) -> None:
    source = Source({i: [clips["good"]] for i in range(3)})
    gen, offline = _clips(source, ctx, tmp_path, fallback=False)
    made = gen.generate_many(_requests(3), workdir=tmp_path)
    # each clip admitted into the work folder: a copy of the provider's file, named by content
    good = clips["good"].read_bytes()
    assert [m.path.read_bytes() == good for m in made if isinstance(m, VideoClip)] == [True] * 3
    assert {m.path.parent for m in made if isinstance(m, VideoClip)} == {tmp_path / "inputs"}
    assert offline.made == [] and gen.fallbacks == []


def test_cards_stay_offline(clips: dict[str, Path], ctx: ClipContext, tmp_path: Path) -> None:
    source = Source({})
    gen, offline = _clips(source, ctx, tmp_path, fallback=False)
    gen.generate_many(_requests(2, kind="end_card"), workdir=tmp_path)
    assert source.calls == [] and offline.made == [0, 1]


def test_a_failed_scene_is_retried_once(
    clips: dict[str, Path], ctx: ClipContext, tmp_path: Path
) -> None:
    source = Source({0: [ProviderUnavailable("fakegen", "HTTP 503"), clips["good"]]})
    gen, _ = _clips(source, ctx, tmp_path, fallback=False)
    [clip] = gen.generate_many(_requests(1), workdir=tmp_path)
    assert isinstance(clip, VideoClip) and len(source.calls) == 2


def test_a_black_clip_is_regenerated_once_with_a_new_attempt(
    clips: dict[str, Path], ctx: ClipContext, tmp_path: Path
) -> None:
    source = Source({0: [clips["black"], clips["good"]]})
    gen, _ = _clips(source, ctx, tmp_path, fallback=False)
    [clip] = gen.generate_many(_requests(1), workdir=tmp_path)
    assert isinstance(clip, VideoClip) and clip.path.read_bytes() == clips["good"].read_bytes()
    assert [c[2] for c in source.calls] == [0, 1]  # attempt 1 is a new cache key


def test_a_scene_that_keeps_failing_falls_back_when_the_brief_allows(
    clips: dict[str, Path], ctx: ClipContext, tmp_path: Path
) -> None:
    down = ProviderUnavailable("fakegen", "circuit open")
    source = Source({0: [clips["good"]], 1: [down], 2: [clips["black"]]})
    gen, offline = _clips(source, ctx, tmp_path, fallback=True)
    made = gen.generate_many(_requests(3), workdir=tmp_path)
    assert isinstance(made[0], VideoClip)
    assert isinstance(made[1], StillClip) and isinstance(made[2], StillClip)
    assert sorted(offline.made) == [1, 2]
    reasons = {f.scene: f.reason for f in gen.fallbacks}
    assert "circuit open" in reasons[1] and "black frames" in reasons[2]


def test_without_fallback_the_job_fails_naming_scene_and_provider(
    clips: dict[str, Path], ctx: ClipContext, tmp_path: Path
) -> None:
    source = Source(
        {0: [clips["good"]], 1: [ProviderUnavailable("fakegen", "HTTP 503 after 4 attempts")]}
    )
    gen, _ = _clips(source, ctx, tmp_path, fallback=False)
    with pytest.raises(
        SceneFailed, match=r"fakegen: scene 1 \(9x16\) failed: HTTP 503 after 4 attempts"
    ) as info:
        gen.generate_many(_requests(2), workdir=tmp_path)
    assert info.value.scene == 1 and info.value.provider == "fakegen"
    # error isolation: scene 0 still ran to its end
    assert (0, "9x16", 0) in source.calls


def test_a_rejection_fails_at_once_even_with_fallback(
    clips: dict[str, Path], ctx: ClipContext, tmp_path: Path
) -> None:
    refused = ProviderRejected("fakegen", "rejected with HTTP 400: prompt flagged by content policy",
                               status=400, provider_message="prompt flagged by content policy")  # fmt: skip
    source = Source({0: [refused]})
    gen, offline = _clips(source, ctx, tmp_path, fallback=True)
    with pytest.raises(ProviderRejected, match="content policy"):
        gen.generate_many(_requests(1), workdir=tmp_path)
    assert len(source.calls) == 1 and offline.made == []


def test_clip_check_names_what_is_wrong(clips: dict[str, Path]) -> None:
    spec = FORMATS[Format.V9X16]
    request = ClipRequest(
        scene_index=0, kind="photo", photo=0, text="", prompt="", duration=1.5, spec=spec
    )
    assert check_clip(VideoClip(path=clips["good"]), request) == []
    assert check_clip(VideoClip(path=clips["short"]), request) == [
        "lasts 0.50s, the scene needs 1.50s"
    ]
    assert check_clip(VideoClip(path=clips["tiny"]), request) == [
        "is 160x120, smaller than 480px on its short side"
    ]
    [black] = check_clip(VideoClip(path=clips["black"]), request)
    assert re.fullmatch(r"has 1\.[3-5]\ds of black frames", black), black
    assert check_clip(VideoClip(path=clips["good"].with_name("missing.mp4")), request)[
        0
    ].startswith("is not a readable video")


class Aborted(Exception):
    """What the worker's JobControl.check raises once a job is canceled."""


def test_a_canceled_job_stops_waiting_on_its_scenes(ctx: ClipContext, tmp_path: Path) -> None:
    import asyncio
    import dataclasses
    import time

    cancelled: list[int] = []

    class Slow:
        name, model = "slowgen", "m1"

        async def make(self, request: ClipRequest, ctx: ClipContext, *, workdir: Path,
                       runtime: ProviderRuntime, attempt: int = 0) -> VideoClip:  # fmt: skip
            try:
                await asyncio.sleep(60)  # a provider task that takes minutes
            except asyncio.CancelledError:
                cancelled.append(request.scene_index)
                raise
            raise AssertionError("not reached")

    started = time.monotonic()

    def check() -> None:
        if time.monotonic() - started > 0.3:
            raise Aborted("canceled")

    gen, offline = _clips(Source({}), ctx, tmp_path, fallback=True)
    gen = dataclasses.replace(
        gen, source=Slow(), runtime=dataclasses.replace(gen.runtime, check=check)
    )
    with pytest.raises(Aborted):
        gen.generate_many(_requests(3), workdir=tmp_path)
    assert time.monotonic() - started < 5
    assert sorted(cancelled) == [0, 1, 2]  # every scene in flight stopped waiting
    assert offline.made == []  # and an abort is not a provider failure: no fallback


def test_stock_credits_reach_the_manifest(tmp_path: Path) -> None:
    import copy

    from pipeline.brief import parse_brief
    from pipeline.providers.fake import FakeClipSource
    from pipeline.providers.pexels_videos import StockAttribution
    from pipeline.render import Ports
    from pipeline.visuals import offline_clips
    from pipeline.voice import FakeVoice
    from tests.conftest import BASE_BRIEF, PHOTOS
    from tests.rendering import render_ad

    class Stock(FakeClipSource):
        attributions = (
            StockAttribution(video_id=7, author="Jane Doe", author_url="https://www.pexels.com/@jane",
                             page_url="https://www.pexels.com/video/7/"),
        )  # fmt: skip

    data = copy.deepcopy(BASE_BRIEF)
    data["product"]["photos"] = [str(PHOTOS / "coffee.png")]
    brief = parse_brief(data, base_dir=tmp_path)
    runtime = ProviderRuntime(cache=ProviderCache(tmp_path / "cache"))
    ports = Ports(
        voice=FakeVoice(),
        meter=runtime.meter,
        clip_factory=lambda ctx: ProviderClips(
            source=Stock(name="pexels"), ctx=ctx, runtime=runtime, offline=offline_clips(ctx)
        ),
    )
    result = render_ad(brief, tmp_path / "out", preview=True, ports=ports)
    [credit] = result.manifest.credits
    assert (credit.provider, credit.text, credit.url) == (
        "pexels", "Video by Jane Doe on Pexels", "https://www.pexels.com/video/7/",
    )  # fmt: skip
