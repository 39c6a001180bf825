"""CPU work kept by content: a palette and an offline voice line are made once for the same
input, whatever render asks again, and the answer is what the adapter gave the first time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from pipeline.media.loudness import audio_digest
from pipeline.palette import FakePalette, KMeansPalette
from pipeline.providers.cache import ProviderCache
from pipeline.providers.memo import MemoPalette, MemoVoice
from pipeline.voice import FakeVoice, Speech

ROOT = Path(__file__).resolve().parents[2]


class CountingVoice(FakeVoice):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def synthesize(self, text: str, **kw: object) -> Speech:  # type: ignore[override]
        self.calls += 1
        return super().synthesize(text, **kw)  # type: ignore[arg-type]


def test_a_line_spoken_once_is_copied_back_with_its_timings(tmp_path: Path) -> None:
    inner = CountingVoice()
    voice = MemoVoice(inner, ProviderCache(tmp_path / "cache"))
    first = voice.synthesize("Fresh espresso at home", locale="en-US", out=tmp_path / "a.wav")
    again = voice.synthesize("Fresh espresso at home", locale="en-US", out=tmp_path / "b.wav")
    assert inner.calls == 1 and voice.hits == 1
    assert again.path == tmp_path / "b.wav"
    assert again.model_copy(update={"path": first.path}) == first
    assert (tmp_path / "b.wav").read_bytes() == (tmp_path / "a.wav").read_bytes()


def test_another_text_rate_or_voice_is_spoken_again(tmp_path: Path) -> None:
    inner = CountingVoice()
    voice = MemoVoice(inner, ProviderCache(tmp_path / "cache"))
    voice.synthesize("Fresh espresso", locale="en-US", out=tmp_path / "1.wav")
    voice.synthesize("Fresh espresso!", locale="en-US", out=tmp_path / "2.wav")
    voice.synthesize("Fresh espresso", locale="en-US", out=tmp_path / "3.wav", rate=200)
    voice.synthesize("Fresh espresso", locale="it", out=tmp_path / "4.wav")
    assert inner.calls == 4 and voice.hits == 0


def _photo(colour: tuple[int, int, int]) -> Image.Image:
    image = Image.new("RGB", (64, 48), colour)
    image.paste((250, 250, 250), (0, 0, 32, 48))
    return image


def test_the_palette_of_the_same_pixels_is_read_back(tmp_path: Path) -> None:
    inner = FakePalette()
    palette = MemoPalette(inner, ProviderCache(tmp_path / "cache"))
    first = palette.extract([_photo((200, 30, 30))], locale="en")
    again = palette.extract([_photo((200, 30, 30))], locale="en")
    assert again == first and len(inner.calls) == 1 and palette.hits == 1
    palette.extract([_photo((30, 30, 200))], locale="en")  # other pixels
    palette.extract([_photo((200, 30, 30))], locale="it")  # colour names in another language
    assert len(inner.calls) == 3


def test_brand_colours_bypass_the_cache(tmp_path: Path) -> None:
    inner = FakePalette()
    palette = MemoPalette(inner, ProviderCache(tmp_path / "cache"))
    palette.extract([_photo((200, 30, 30))], locale="en", override=["#112233"])
    palette.extract([_photo((200, 30, 30))], locale="en", override=["#112233"])
    assert len(inner.calls) == 2 and palette.hits == 0


def test_a_damaged_entry_is_made_again(tmp_path: Path) -> None:
    cache = ProviderCache(tmp_path / "cache")
    palette = MemoPalette(KMeansPalette(), cache)
    first = palette.extract([_photo((200, 30, 30))], locale="en")
    for entry in (tmp_path / "cache").rglob("*.asset.json"):
        entry.write_text("{not json", encoding="utf-8")
    assert palette.extract([_photo((200, 30, 30))], locale="en") == first
    assert palette.hits == 0


def test_a_second_cli_render_reuses_the_palette_and_the_voice(tmp_path: Path) -> None:
    """Two previews of the bundled example from the command line: the second makes no new
    cache entry (palette and every voice line were found) and speaks the same sound."""
    env = {**os.environ, "REELFORGE_HOME": str(tmp_path / "home")}
    brief = ROOT / "examples" / "espresso" / "brief.yaml"
    cache = tmp_path / "home" / "cache" / "providers"

    def run(out: str) -> dict[Path, int]:
        subprocess.run(
            [sys.executable, "-m", "pipeline", "render", str(brief), "--out", str(tmp_path / out),
             "--preview", "--formats", "9x16", "--no-record"],
            env=env, check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        return {p.relative_to(cache): p.stat().st_mtime_ns for p in cache.rglob("*.json")}

    made = run("one")
    assert len(made) >= 2  # the palette and at least one voice line
    assert run("two") == made  # not one entry written again
    one = sorted((tmp_path / "one").rglob("9x16.mp4"))
    two = sorted((tmp_path / "two").rglob("9x16.mp4"))
    assert one and two and audio_digest(one[0]) == audio_digest(two[0])


def _mp4(path: Path, colour: str, tone: int) -> Path:
    from pipeline.media.ffmpeg import ffmpeg_exe

    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", f"color={colour}:s=64x64:d=1",
         "-f", "lavfi", "-i", f"sine=f={tone}:d=1", "-c:v", "libx264", "-c:a", "aac",
         "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path


def test_qc_measures_each_distinct_sound_once(tmp_path: Path) -> None:
    from pipeline.media.ffmpeg import ffmpeg_exe
    from pipeline.media.loudness import LoudnessOfStreams, measure_loudness

    red = _mp4(tmp_path / "red.mp4", "red", 440)
    blue = tmp_path / "blue.mp4"  # other pictures, the same sound by stream copy
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i", "color=blue:s=96x64:d=1",
         "-i", str(red), "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-c:a", "copy",
         "-shortest", str(blue)],
        check=True,
    )  # fmt: skip
    other = _mp4(tmp_path / "other.mp4", "red", 880)
    sound = LoudnessOfStreams()
    assert sound.of(red) == sound.of(blue) == measure_loudness(blue)
    assert len(sound.measured) == 1
    sound.of(other)
    assert len(sound.measured) == 2
