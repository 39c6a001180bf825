"""End-to-end renders on the offline default, checked by probing the real files."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from pipeline.formats import FORMATS, Format
from pipeline.media.loudness import measure_loudness
from pipeline.media.probe import probe
from pipeline.render import RenderResult
from tests.rendering import render_ad

pytestmark = pytest.mark.integration

WriteBrief = Callable[[dict[str, Any]], Path]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> RenderResult:
    """One real 8 s render in two formats, shared by the checks below."""
    from tests.conftest import BASE_BRIEF, PHOTOS

    root = tmp_path_factory.mktemp("render")
    (root / "photos").mkdir()
    for name in ("coffee.png", "chelsea.png"):
        (root / "photos" / name).write_bytes((PHOTOS / name).read_bytes())
    data = json.loads(json.dumps(BASE_BRIEF))
    data["formats"] = ["9x16", "1x1"]
    data["product"]["photos"] = ["photos/coffee.png", "photos/chelsea.png"]
    brief = root / "brief.json"
    brief.write_text(json.dumps(data))
    return render_ad(brief, root / "out")


def test_writes_one_mp4_and_poster_per_format_and_a_manifest(rendered: RenderResult) -> None:
    out = rendered.out_dir
    assert out.name == "AUR-ESP-01"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["9x16.mp4", "9x16.png", "1x1.mp4", "1x1.png", "manifest.json"]
    )
    with Image.open(out / "9x16.png") as poster:
        assert poster.size == (1080, 1920)
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")], "staging left behind"


@pytest.mark.parametrize("fmt", [Format.V9X16, Format.V1X1])
def test_outputs_meet_the_delivery_spec(rendered: RenderResult, fmt: Format) -> None:
    spec = FORMATS[fmt]
    p = probe(rendered.out_dir / f"{fmt.value}.mp4")
    assert (p.width, p.height) == (spec.width, spec.height)
    assert p.fps == 30 and p.constant_frame_rate
    assert p.video_codec == "h264" and p.profile == "High" and p.pix_fmt == "yuv420p"
    assert abs(p.video_duration - 8.0) < 0.05 and abs(p.duration - 8.0) <= 0.1
    assert p.max_keyframe_interval <= 2.02
    assert p.audio_codec == "aac" and p.sample_rate == 48000 and p.channels == 2
    assert p.faststart and not p.edit_list
    loud = measure_loudness(p.path)
    assert abs(loud.integrated + 14) <= 1.0
    assert loud.true_peak <= -1.0


def test_manifest_says_what_was_made_and_why(rendered: RenderResult) -> None:
    m = json.loads((rendered.out_dir / "manifest.json").read_text())
    assert len(m["brief_hash"]) == 64
    assert len(m["palette"]["swatches"]) == 5 and all(s["name"] for s in m["palette"]["swatches"])
    assert len(m["scripts"]) == 2 and m["chosen_option"] == 1
    scenes = m["scripts"][0]["scenes"]
    assert len(m["prompts"]) == len(scenes)
    assert {o["format"] for o in m["outputs"]} == {"9x16", "1x1"}
    for entry in m["outputs"]:
        assert entry["qc"]["checks"] and all(
            c["ok"] or c["severity"] == "warning" for c in entry["qc"]["checks"]
        )
        assert entry["width"] and entry["duration"] and entry["loudness_lufs"] is not None
    for stage in (
        "palette",
        "script",
        "voice",
        "soundtrack",
        "captions",
        "visuals",
        "compose",
        "qc",
    ):
        assert m["stages"][stage] >= 0
    words = [w for line in m["voice"] for w in line["words"]]
    assert words and all(a["start"] <= b["start"] for a, b in itertools.pairwise(words))
    # English is spoken by the neural voice; each line says which engine and voice spoke it.
    assert m["voice"] and {(line["engine"], line["voice"]) for line in m["voice"]} == {
        ("hibari", "heart")
    }
    for line in m["voice"]:  # the captions show the words as written; "spoken" what was said
        assert line["spoken"] == " ".join(line["text"].split())
        assert " ".join(w["text"] for w in line["words"]) == " ".join(line["text"].split())


def _ad_audio(path: Path, start: float, end: float, out: Path) -> Path:
    """The ad's sound between two times, mono 16-bit at 16 kHz, written to ``out``."""
    import wave

    with av.open(str(path)) as c:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)
        chunks = [
            r.to_ndarray().reshape(-1)
            for frame in c.decode(c.streams.audio[0])
            for r in resampler.resample(frame)
        ]
    pcm = np.concatenate(chunks)[int(start * 16000) : int(end * 16000)]
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(pcm.astype("<i2").tobytes())
    return out


def test_caption_words_start_when_the_final_ad_says_them(
    rendered: RenderResult, tmp_path: Path
) -> None:
    """The captions' word times (the manifest's) against PocketSphinx's forced alignment of
    the delivered MP4's own sound: a written word lights up when its first spoken word is heard."""
    from pipeline.voice import normalise
    from tests.voice.aligner import align, spoken_words

    m = rendered.manifest
    errors: list[float] = []
    for line in m.voice:
        end = line.words[-1].end + 0.3
        clip = _ad_audio(rendered.out_dir / "9x16.mp4", line.start - 0.1, end, tmp_path / "l.wav")
        heard = align(clip, line.spoken or line.text)
        said = normalise(line.text, m.scripts[0].locale)
        assert [w.text for w in line.words] == list(said.written)  # no emoji merged here
        at = 0
        for word, spoken in zip(line.words, said.spoken, strict=True):
            errors.append(word.start - (line.start - 0.1 + heard[at].start))
            at += len(spoken_words(spoken))
    err = np.abs(np.asarray(errors))
    print(
        f"\ncaption onsets vs the ad's sound, {err.size} words: mean {err.mean() * 1000:.0f} ms,"
        f" max {err.max() * 1000:.0f} ms, within 40 ms {np.mean(err <= 0.0401):.0%}"
    )
    assert np.mean(err <= 0.0401) >= 0.85
    assert err.max() <= 0.25


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)


def _frame(path: Path, t: float) -> np.ndarray:
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        c.seek(int(max(0.0, t - 1.0) / stream.time_base), stream=stream)
        for frame in c.decode(stream):
            if frame.time is not None and frame.time >= t:
                return frame.to_ndarray(format="rgb24").astype(float)
    raise AssertionError("no frame")


def test_spoken_word_is_drawn_in_the_accent_colour(
    tmp_path: Path, write_brief: WriteBrief, brief_data: dict[str, Any], photo_dir: Path
) -> None:
    # A flat grey photo and a brand palette: the only accent-coloured pixels are caption glyphs.
    Image.new("RGB", (640, 640), (118, 118, 118)).save(photo_dir / "grey.png")
    brief_data["product"]["photos"] = ["photos/grey.png"]
    brief_data["brand"]["palette"] = ["#1f2a44", "#e9b949", "#f4f1ea"]
    result = render_ad(write_brief(brief_data), tmp_path / "out", preview=True)
    m = result.manifest
    highlight, text = _rgb(m.palette.roles.caption_highlight), _rgb(m.palette.roles.caption_text)
    words = [w for line in m.voice for w in line.words]
    video = result.out_dir / "9x16.mp4"
    spec = FORMATS[Format.V9X16].scaled(360)
    _, top, _, bottom = spec.safe_box
    band = slice(top + (bottom - top) // 2, bottom)  # lower half of the safe box: the caption line

    def columns(t: float, colour: np.ndarray) -> np.ndarray:
        near = np.linalg.norm(_frame(video, t)[band] - colour, axis=2) < 45
        return np.nonzero(near.sum(axis=0) >= 2)[0]

    first, second = words[0], words[1]
    lit_first = columns((first.start + first.end) / 2, highlight)
    lit_second = columns((second.start + second.end) / 2, highlight)
    assert lit_first.size > 5 and lit_second.size > 5, "the spoken word is not in the accent colour"
    assert columns((first.start + first.end) / 2, text).size > 5, (
        "the other words are not in the text colour"
    )
    # The highlight follows the voice: the second word is lit somewhere else than the first.
    assert not math.isclose(lit_first.mean(), lit_second.mean(), abs_tol=3)
    # Before anyone speaks, nothing is highlighted.
    assert columns(0.02, highlight).size == 0


def test_rendering_again_replaces_the_previous_output(
    rendered: RenderResult, tmp_path: Path
) -> None:
    brief = rendered.out_dir.parent.parent / "brief.json"
    again = render_ad(brief, rendered.out_dir.parent, formats=(Format.V1X1,), preview=True)
    assert again.out_dir == rendered.out_dir
    assert sorted(p.name for p in again.out_dir.iterdir()) == [
        "1x1.mp4",
        "1x1.png",
        "manifest.json",
    ]
    assert sorted(p.name for p in again.out_dir.parent.iterdir()) == ["AUR-ESP-01"]


def test_preview_is_a_low_resolution_draft(
    tmp_path: Path, write_brief: WriteBrief, brief_data: dict[str, Any]
) -> None:
    result = render_ad(write_brief(brief_data), tmp_path / "out", preview=True)
    p = probe(result.out_dir / "9x16.mp4")
    assert (p.width, p.height) == (360, 640)
    assert p.fps == 15 and p.constant_frame_rate  # a draft: half the frames
    assert result.manifest.preview
    assert abs(p.duration - 8.0) <= 0.1


def test_italian_brief_with_music_and_option_two(
    tmp_path: Path, write_brief: WriteBrief, brief_data: dict[str, Any], photo_dir: Path
) -> None:
    from pipeline.media.ffmpeg import run_ffmpeg

    run_ffmpeg(
        ["-f", "lavfi", "-i", "sine=frequency=220:duration=3", "-f", "lavfi", "-i", "sine=frequency=330:duration=3",
         "-filter_complex", "amix=inputs=2", "-ar", "44100", str(photo_dir / "music.wav")],
        stage="test",
    )  # fmt: skip
    brief_data["brand"]["locale"] = "it-IT"
    brief_data["product"]["features"] = ["Porcellana a doppia parete", "Lavabile in lavastoviglie"]
    brief_data["product"]["currency"] = "EUR"
    brief_data["music"] = "photos/music.wav"
    brief_data["formats"] = ["4x5"]
    result = render_ad(write_brief(brief_data), tmp_path / "out", option=2, preview=True)
    m = result.manifest
    assert m.chosen_option == 2 and m.scripts[1].locale.startswith("it")
    assert any(
        "24,90 €" in s.on_screen_text or "Acquista" in s.on_screen_text for s in m.scripts[1].scenes
    )
    assert m.outputs[0].loudness_lufs is not None and abs(m.outputs[0].loudness_lufs + 14) <= 1
    assert any(" " in s.name or s.name.isalpha() for s in m.palette.swatches)
    # Italian is spoken by eSpeak NG, in its helper process: its GPL library never enters ours.
    assert m.voice and {line.engine for line in m.voice} == {"espeak-ng"}
    maps = Path("/proc/self/maps").read_text()
    assert "espeak" not in maps.lower()


def test_awkward_photos_a_logo_and_a_brand_font_render(
    tmp_path: Path, write_brief: WriteBrief, brief_data: dict[str, Any], photo_dir: Path
) -> None:
    from font_rhd import __file__ as font_pkg

    base = Image.open(photo_dir / "coffee.png").convert("RGB")
    base.convert("CMYK").save(photo_dir / "cmyk.jpg")
    exif = Image.Exif()
    exif[0x0112] = 8  # shown rotated 90° counter-clockwise
    base.save(photo_dir / "rotated.jpg", exif=exif)
    Image.fromarray(np.asarray(base.convert("L"), dtype=np.uint16) * 257).save(
        photo_dir / "grey16.png"
    )
    base.convert("P", palette=Image.Palette.ADAPTIVE).save(photo_dir / "palette.png")
    rgba = base.convert("RGBA")
    rgba.putalpha(128)
    rgba.save(photo_dir / "alpha.png")
    logo = Image.new("RGBA", (300, 100), (0, 0, 0, 0))
    logo.paste((250, 250, 250, 255), (10, 10, 290, 90))
    logo.save(photo_dir / "logo.png")
    font = Path(font_pkg).parent / "files" / "RedHatDisplay-Medium.ttf"
    brief_data["product"]["photos"] = [
        f"photos/{n}" for n in ("cmyk.jpg", "rotated.jpg", "grey16.png", "palette.png", "alpha.png")
    ]
    brief_data["brand"]["logo"] = "photos/logo.png"
    brief_data["brand"]["font"] = str(font)
    result = render_ad(write_brief(brief_data), tmp_path / "out", preview=True)
    assert result.manifest.outputs[0].qc.passed
    assert result.manifest.brief["brand"]["logo"].endswith("logo.png")


class _CorruptClips:
    """A clip provider that hands back a file FFmpeg cannot decode."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def generate(self, request: Any, *, workdir: Path) -> Any:
        from pipeline.timeline import VideoClip

        return VideoClip(path=self.path)


class _BrokenComposer:
    """A composer whose FFmpeg run fails after it has begun writing the first output."""

    mode = "per_format"

    def compose(self, outputs: Any, progress: Callable[[float], None]) -> None:
        from pipeline.media.ffmpeg import run_ffmpeg
        from pipeline.media.graph import build_args

        outputs[0].path.write_bytes(b"\x00\x00\x00\x18ftypmp42 half an ad")
        args = build_args(outputs[:1])
        run_ffmpeg([*args[:-1], str(outputs[0].path.parent / "missing" / "x.mp4")], stage="compose")


def test_a_failure_after_compose_started_leaves_nothing_behind(
    tmp_path: Path, write_brief: WriteBrief, brief_data: dict[str, Any]
) -> None:
    from pipeline.errors import StageError
    from pipeline.render import Ports
    from tests.rendering import render_ad

    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("someone else's file")
    with pytest.raises(StageError) as info:
        render_ad(
            write_brief(brief_data), out, preview=True, ports=Ports(composer=_BrokenComposer())
        )
    assert info.value.stage == "compose"
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_a_clip_ffmpeg_cannot_read_is_refused_before_compose_and_leaves_nothing(
    tmp_path: Path, write_brief: WriteBrief, brief_data: dict[str, Any]
) -> None:
    from pipeline.errors import BadInput
    from pipeline.render import Ports
    from tests.rendering import render_ad

    junk = tmp_path / "clip.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("someone else's file")
    with pytest.raises(BadInput, match=r"clips\[0\]: clip.mp4 is not a readable MP4 file"):
        render_ad(
            write_brief(brief_data), out, preview=True, ports=Ports(clips=_CorruptClips(junk))
        )
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
