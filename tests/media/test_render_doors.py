"""The render's doors, driven for real: ``reelforge render`` on a brief naming a hostile file
(tests/media_corpus.py) as its music, voice-over, photo or logo exits 2 with one line naming
the field, and no byte of the file it points at (another tenant's clip, voice or picture, or
/etc/passwd) is in anything written; good music of each kind and a good provider MP4 still
render."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import pytest

from pipeline.timeline import VideoClip
from pipeline.visuals import ClipContext, ClipRequest
from tests.media_corpus import Case, Targets, corpus, provider_ports, red_clip, reddest, targets
from tests.rendering import render_ad
from tests.upload_corpus import encoded_audio

WriteBrief = Callable[[dict[str, Any]], Path]

# corpus case → the brief field that names it
DOORS = {
    "hls to a tenant's clip": "music",  # the finding: music.m3u8 naming another tenant's 9x16.mp4
    "hls to a tenant's voice": "music",
    "hls named .wav": "voice.file",
    "hls to /etc/passwd": "music",
    "concat to /etc/passwd": "voice.file",
    "concat beside its target": "music",
    "symlink to a tenant's voice": "music",
    "sdp named .wav": "music",
    "pattern name as audio": "voice.file",
    "truncated wav": "music",
    "image2 pattern to a tenant's frames": "product.photos[0]",
    "hls named .png": "product.photos[0]",
    "symlink to a tenant's picture": "brand.logo",
    "truncated png": "brand.logo",
}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Targets, dict[str, Case]]:
    root = tmp_path_factory.mktemp("doors")
    found = targets(root)
    return found, {c.name: c for c in corpus(root, found)}


def _brief(data: dict[str, Any], field: str, path: Path) -> dict[str, Any]:
    data = json.loads(json.dumps(data))
    if field == "music":
        data["music"] = str(path)
    elif field == "voice.file":
        data["voice"] = {"enabled": True, "file": str(path)}
    elif field == "brand.logo":
        data["brand"]["logo"] = str(path)
    else:
        data["product"]["photos"] = [str(path)]
    return data


def _needle(target: Path) -> bytes:
    """64 bytes from the middle of ``target``: in any output only if the target was read."""
    data = target.read_bytes()
    middle = len(data) // 2
    return data[middle : middle + 64]


def holding(folder: Path, needle: bytes) -> list[Path]:
    """The files under ``folder`` whose bytes contain ``needle``."""
    if not folder.exists():
        return []
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(DOORS))
def test_the_cli_refuses_a_hostile_file_naming_the_field_and_writes_none_of_its_target(
    name: str,
    hostile: tuple[Targets, dict[str, Case]],
    tmp_path: Path,
    write_brief: WriteBrief,
    brief_data: dict[str, Any],
) -> None:
    case, field = hostile[1][name], DOORS[name]
    brief = write_brief(_brief(brief_data, field, case.path))
    out = tmp_path / "out"
    # a voice-over file is taken only with a transcriber's key; it is refused before any call
    key = {"ELEVENLABS_API_KEY": "never-used"} if field == "voice.file" else {}
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "render", str(brief), "--out", str(out), "--preview"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300,
        env={**os.environ, "COLUMNS": "200", **key},
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {field}: "), result.stderr
    assert case.words in lines[0], lines[0]
    assert not re.search(r"[0-9a-f]{64}", lines[0])  # the file as given, never its copy
    assert not out.exists() or not any(out.iterdir())
    assert holding(tmp_path, _needle(case.target)) == []  # in nothing written


class _Fixed:
    """A clip provider answering every scene with one good MP4."""

    name, model = "fixed", "m1"

    def __init__(self, clip: Path) -> None:
        self.clip = clip

    async def make(self, request: ClipRequest, ctx: ClipContext, **_: Any) -> VideoClip:
        return VideoClip(path=self.clip)


@pytest.mark.integration
def test_a_good_provider_mp4_is_admitted_and_composed(
    tmp_path: Path, write_brief: WriteBrief, brief_data: dict[str, Any]
) -> None:
    clip = red_clip(tmp_path / "provider" / "clip.mp4")
    result = render_ad(
        write_brief(brief_data), tmp_path / "out", preview=True,
        ports=provider_ports(_Fixed(clip), tmp_path / "cache"),
    )  # fmt: skip
    assert not result.manifest.fallbacks
    assert reddest(result.out_dir / "9x16.mp4") > 0.5  # the provider's clip is on screen


@pytest.mark.integration
@pytest.mark.parametrize(
    ("name", "container", "codec"),
    [("m.mp3", "mp3", "mp3"), ("m.m4a", "ipod", "aac"), ("m.flac", "flac", "flac"),
     ("m.ogg", "ogg", "opus")],
)  # fmt: skip
def test_good_music_of_each_kind_still_renders(
    name: str,
    container: str,
    codec: str,
    tmp_path: Path,
    write_brief: WriteBrief,
    brief_data: dict[str, Any],
) -> None:
    music = tmp_path / name
    music.write_bytes(encoded_audio(container, codec, seconds=3.0))
    brief_data["music"] = str(music)
    result = render_ad(write_brief(brief_data), tmp_path / "out", preview=True)
    with av.open(str(result.out_dir / "9x16.mp4")) as box:
        assert box.streams.audio and box.duration is not None
        assert box.duration / av.time_base == pytest.approx(8.0, abs=1.0)
