"""Sound and picture start together in the delivered file (a click test).

Ads ship without edit lists (ad-specs: some platforms' ingest ignores them), so nothing tells a
player to skip the AAC encoder's 1024 priming samples: unless the soundtrack makes up for them,
every sound plays 21.3 ms after its frame.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from pipeline.formats import FORMATS, Format
from pipeline.media.ffmpeg import run_ffmpeg
from pipeline.media.graph import Output, build_args
from pipeline.media.soundtrack import Cue, render_soundtrack
from pipeline.timeline import StillClip, Timeline, TimelineScene

pytestmark = pytest.mark.integration

RATE = 48000
CLICK_AT = 1.0


def _clicks(path: Path) -> None:
    """A 2 s voice line, silent but for one 2 ms click at exactly CLICK_AT."""
    samples = np.zeros(2 * RATE, dtype=np.int16)
    start = int(CLICK_AT * RATE)
    samples[start : start + 96] = 20000
    import wave

    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(samples.tobytes())


def _onset(path: Path) -> float:
    """Seconds from the file's first decoded sample to the first loud one."""
    with av.open(str(path)) as container:
        frames = [f.to_ndarray()[0] for f in container.decode(audio=0)]
    mono = np.concatenate(frames)
    loud = np.nonzero(np.abs(mono) > 0.2 * np.abs(mono).max())[0]
    return float(loud[0] / RATE)


def test_a_sound_at_one_second_plays_at_one_second(tmp_path: Path) -> None:
    voice, soundtrack, still = tmp_path / "click.wav", tmp_path / "st.m4a", tmp_path / "s.png"
    _clicks(voice)
    render_soundtrack([Cue(path=voice, start=0.0)], None, 2.0, soundtrack)
    Image.new("RGB", (180, 320), "#223344").save(still)
    timeline = Timeline(
        spec=FORMATS[Format.V9X16].scaled(320), duration=2.0, audio=soundtrack,
        scenes=(TimelineScene(index=0, start=0.0, beat=2.0,
                              clip=StillClip(image=still, width=180, height=320)),),
    )  # fmt: skip
    out = tmp_path / "ad.mp4"
    run_ffmpeg(build_args([Output(timeline, out)]), stage="test")
    with av.open(str(out)) as container:
        audio, video = container.streams.audio[0], container.streams.video[0]
        assert audio.start_time is not None and video.start_time is not None
        starts = (float(audio.start_time * audio.time_base), float(video.start_time * video.time_base))
    assert starts == (0.0, 0.0)
    # within a quarter of a millisecond (12 samples) of the frame it belongs to
    assert _onset(out) == pytest.approx(CLICK_AT, abs=0.00025)
    assert _onset(soundtrack) == pytest.approx(CLICK_AT, abs=0.00025)  # the intermediate as well
