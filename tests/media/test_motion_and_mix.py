"""Real FFmpeg runs of the two things ears and eyes notice first: jittery motion and loud music."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

from pipeline.formats import FORMATS, Format
from pipeline.media.ffmpeg import run_ffmpeg
from pipeline.media.graph import Output, build_args
from pipeline.media.soundtrack import Cue, render_soundtrack
from pipeline.timeline import StillClip, Timeline, TimelineScene
from pipeline.visuals import ken_burns

pytestmark = pytest.mark.integration


def _track(path: Path) -> np.ndarray:
    points = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            grey = frame.to_ndarray(format="gray").astype(float)
            ys, xs = np.nonzero(grey > 128)
            w = grey[ys, xs]
            points.append((float((xs * w).sum() / w.sum()), float((ys * w).sum() / w.sum())))
    return np.array(points)


@pytest.mark.parametrize("scene", [0, 1])  # a zoom and a pan
def test_ken_burns_moves_without_jitter(tmp_path: Path, scene: int) -> None:
    spec = FORMATS[Format.V9X16].scaled(540)
    still = tmp_path / "marker.png"
    image = Image.new("RGB", (360, 640))
    ImageDraw.Draw(image).ellipse((240, 180, 262, 202), fill="white")
    image.save(still)
    audio = tmp_path / "silence.m4a"
    render_soundtrack([], None, 3.0, audio)
    clip = StillClip(image=still, width=360, height=640, motion=ken_burns(scene, 1.12))
    timeline = Timeline(
        spec=spec, duration=3.0, audio=audio,
        scenes=(TimelineScene(index=0, start=0.0, beat=3.0, clip=clip),),
    )  # fmt: skip
    args = build_args([Output(timeline, tmp_path / "out.mp4")])
    # Near-lossless, so the measurement sees the filter's motion rather than the encoder's.
    args[args.index("-crf") + 1] = "1"
    run_ffmpeg(args, stage="test")
    path = _track(tmp_path / "out.mp4")
    assert len(path) == 90
    travel = np.linalg.norm(path[-1] - path[0])
    assert travel > 15, "the marker should move"
    accel = np.diff(path, 2, axis=0)
    # Pixel-stepping motion (crop or zoompan) shows about 1 px of acceleration noise; sub-pixel
    # sampling stays a fraction of that.
    assert np.sqrt((accel**2).mean()) < 0.2
    assert np.abs(accel).max() < 0.6


def _tone(path: Path, freq: int, seconds: float, rate: int = 22050) -> None:
    run_ffmpeg(
        ["-f", "lavfi", "-i", f"sine=frequency={freq}:duration={seconds}:sample_rate={rate}",
         "-ac", "1", str(path)],
        stage="test",
    )  # fmt: skip


def _band_level(samples: np.ndarray, rate: int, freq: float, start: float, end: float) -> float:
    window = samples[int(start * rate) : int(end * rate)]
    spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window))))
    freqs = np.fft.rfftfreq(len(window), 1 / rate)
    band = (freqs > freq - 20) & (freqs < freq + 20)
    return float(20 * np.log10(spectrum[band].max() + 1e-9))


def test_music_ducks_under_the_voice_and_the_mix_hits_the_loudness_target(tmp_path: Path) -> None:
    voice, music, out = tmp_path / "voice.wav", tmp_path / "music.wav", tmp_path / "mix.m4a"
    _tone(voice, 1000, 1.5)
    _tone(music, 300, 2.0, rate=44100)  # shorter than the ad: it must loop
    loudness = render_soundtrack([Cue(path=voice, start=2.0)], music, 5.0, out)
    assert abs(loudness.integrated + 14) <= 1.0 and loudness.true_peak <= -1.0
    with av.open(str(out)) as container:
        stream = container.streams.audio[0]
        assert stream.rate == 48000 and stream.channels == 2
        samples = np.concatenate([f.to_ndarray()[0] for f in container.decode(stream)])
    rate = 48000
    alone = _band_level(samples, rate, 300, 0.8, 1.8)  # music only
    under = _band_level(samples, rate, 300, 2.6, 3.3)  # music while the voice speaks
    after_loop = _band_level(samples, rate, 300, 4.0, 4.5)  # past the music file's end
    assert alone - under >= 6, f"music not ducked: {alone:.1f} dB alone, {under:.1f} dB under voice"
    assert after_loop > under, "music should loop to fill the ad and recover after the voice"


def _quieter(path: Path, out: Path, db: float) -> None:
    run_ffmpeg(["-i", str(path), "-af", f"volume={db}dB", str(out)], stage="test")


def test_a_loud_master_and_a_quiet_one_sit_alike_under_the_voice(tmp_path: Path) -> None:
    """Music is matched to the voice before ducking: a track mastered 16 dB hotter than another
    sits where the other does, about 10 LU under the voice, instead of swelling in the pauses."""
    voice, loud, quiet = tmp_path / "voice.wav", tmp_path / "loud.wav", tmp_path / "quiet.wav"
    _tone(voice, 1000, 1.5)
    _tone(loud, 300, 5.0, rate=44100)  # full scale: a -3 LUFS master
    _quieter(loud, quiet, -16.0)
    levels = {}
    for name, music in (("loud", loud), ("quiet", quiet)):
        out = tmp_path / f"{name}.m4a"
        render_soundtrack([Cue(path=voice, start=2.0)], music, 5.0, out)
        with av.open(str(out)) as container:
            samples = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)])
        speech = _band_level(samples, 48000, 1000, 2.3, 3.3)
        pause = _band_level(samples, 48000, 300, 0.8, 1.8)  # the bed alone, before the voice
        levels[name] = speech - pause
    assert abs(levels["loud"] - levels["quiet"]) < 1.0, levels
    assert all(8.0 <= gap <= 12.5 for gap in levels.values()), levels
