"""The filter graph keeps 4:2:0 everywhere but inside a crossfade, as FFmpeg itself negotiates it.

``xfade`` accepts 4:4:4 or RGB only. Left to FFmpeg's format negotiation, one crossfade drags
every upscale, ``concat``, ``fps`` and the captions of the format into full-resolution chroma
(half of the graph's CPU). FFmpeg logs each conversion it inserts (``auto_scale``) at verbose
level; this test reads them back from a real run.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from pipeline.formats import FORMATS, Format
from pipeline.media.ffmpeg import ffmpeg_exe, run_ffmpeg
from pipeline.media.graph import Output, build_args
from pipeline.media.soundtrack import render_soundtrack
from pipeline.timeline import StillClip, Timeline, TimelineScene, Transition, VideoClip
from pipeline.visuals import ken_burns

pytestmark = pytest.mark.integration

CONVERSION = re.compile(
    r"\[auto_scale_\d+ @ [^\]]+\] w:(\d+) h:(\d+) fmt:(\w+) .*-> w:\d+ h:\d+ fmt:(\w+)"
)
SUBTITLES = """[Script Info]
ScriptType: v4.00+
PlayResX: 360
PlayResY: 640

[V4+ Styles]
Format: Name, Fontname, Fontsize, PrimaryColour, OutlineColour, BorderStyle, Outline, Alignment
Style: Default, DejaVu Sans, 40, &H00FFFFFF, &H00000000, 1, 2, 2

[Events]
Format: Layer, Start, End, Style, Text
Dialogue: 0,0:00:00.20,0:00:03.50,Default,Caption over the crossfades
"""


def _timeline(tmp: Path) -> Timeline:
    """Two upscaled photos and a provider video, joined by two crossfades, captions on top."""
    spec = FORMATS[Format.V9X16].scaled(640)
    stills = []
    for n, colour in enumerate(("#c0392b", "#2c3e50")):
        path = tmp / f"s{n}.png"
        Image.new("RGB", (180, 320), colour).save(path)
        stills.append(StillClip(image=path, width=180, height=320, motion=ken_burns(n, 1.1)))
    video = tmp / "clip.mp4"
    run_ffmpeg(
        ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=24:duration=2", "-pix_fmt", "yuv420p",
         str(video)],
        stage="test",
    )  # fmt: skip
    (tmp / "cap.ass").write_text(SUBTITLES)
    audio = tmp / "silence.m4a"
    render_soundtrack([], None, 4.0, audio)
    fade = Transition(name="fade", duration=0.4)
    scenes = (
        TimelineScene(index=0, start=0.0, beat=1.5, clip=stills[0], transition=fade),
        TimelineScene(index=1, start=1.5, beat=1.2, clip=stills[1], transition=fade),
        TimelineScene(index=2, start=2.7, beat=1.3, clip=VideoClip(path=video)),
    )
    return Timeline(
        spec=spec, duration=4.0, scenes=scenes, audio=audio, subtitles=tmp / "cap.ass"
    )


def test_only_crossfades_see_full_resolution_chroma(tmp_path: Path) -> None:
    timeline = _timeline(tmp_path)
    args = build_args([Output(timeline, tmp_path / "out.mp4")])
    run = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-v", "verbose", *args],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    conversions = Counter(
        (f"{w}x{h}", src, dst) for w, h, src, dst in CONVERSION.findall(run.stderr)
    )
    # The photos decoded as RGB become 4:2:0 at their own small size, before the upscale; into
    # each crossfade its two inputs go up to 4:4:4, and out of it come back. Nothing else: an
    # upscale, concat or the captions in 4:4:4 would convert elsewhere, or more often.
    size = f"{timeline.spec.width}x{timeline.spec.height}"
    assert conversions == {
        ("180x320", "rgb24", "yuv420p"): 2,
        (size, "yuv420p", "yuv444p"): 4,
        (size, "yuv444p", "yuv420p"): 2,
    }, run.stderr[-3000:]
    assert (tmp_path / "out.mp4").stat().st_size > 0
