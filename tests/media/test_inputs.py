"""The render's intake: every file from outside is admitted (one regular file, copied into the
private work folder, accepted only as an allowed container of its role) and then opened by its
container's demuxer alone, so no playlist, concat list, link or image2 pattern reaches another
file. The corpus (tests/media_corpus.py) holds files that point at another tenant's outputs
and at /etc/passwd; the first test shows which of them FFmpeg reads through when it guesses."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import pytest

from pipeline.containers import CONTAINERS, Role, input_args
from pipeline.errors import BadInput
from pipeline.media.ffmpeg import ffmpeg_exe
from pipeline.media.inputs import admit
from pipeline.render.compose import compose_file
from pipeline.timeline import VideoClip
from pipeline.visuals import ClipContext, ClipRequest
from tests.media_corpus import (
    PASSWD,
    Case,
    Targets,
    corpus,
    provider_ports,
    red_clip,
    reddest,
    targets,
)
from tests.rendering import render_ad
from tests.upload_corpus import encoded_audio, image_bytes, wav_bytes

WriteBrief = Callable[[dict[str, Any]], Path]
CORPUS_SIZE = 25
LIVE = 7  # the corpus files FFmpeg 9, left to guess, reads another file through


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Targets, list[Case]]:
    root = tmp_path_factory.mktemp("corpus")
    found = targets(root)
    return found, corpus(root, found)


def _decoded_md5(path: Path, *options: str) -> str | None:
    """The MD5 of the first second FFmpeg decodes from ``path`` opened with ``options``; None if
    it cannot open it."""
    done = subprocess.run(
        [ffmpeg_exe(), "-v", "error", *options, "-i", str(path), "-t", "1", "-f", "md5", "-"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip
    return done.stdout.strip() if done.returncode == 0 else None


def test_the_corpus_reaches_other_files_when_ffmpeg_guesses_the_demuxer(
    hostile: tuple[Targets, list[Case]],
) -> None:
    _, cases = hostile
    assert len(cases) == CORPUS_SIZE
    leaked = set()
    for case in cases:
        if case.name == "a fifo":  # FFmpeg would wait for a writer
            continue
        target = _decoded_md5(case.target)
        read = _decoded_md5(case.path, "-protocol_whitelist", "file,pipe")
        if target is not None and read == target:
            leaked.add(case.name)
    # the files marked live really read the other tenant's clip, voice or picture
    assert leaked == {c.name for c in cases if c.live}
    assert len(leaked) == LIVE


def test_every_file_of_the_corpus_is_refused_naming_the_field_and_nothing_is_kept(
    hostile: tuple[Targets, list[Case]], tmp_path: Path
) -> None:
    _, cases = hostile
    into = tmp_path / "inputs"
    refused: dict[str, str] = {}
    for case in cases:
        with pytest.raises(BadInput) as info:
            admit(case.path, case.role, into=into, field="music")
        assert info.value.where == "music"
        assert case.words in info.value.problem, (case.name, info.value.problem)
        assert str(case.path.parent) not in info.value.problem  # the file, never its folder
        refused[case.name] = info.value.problem
        assert list(into.iterdir()) == [], case.name  # nothing half-written
    assert len(refused) == CORPUS_SIZE


def test_a_list_opened_by_the_demuxer_its_name_claims_reads_nothing(
    hostile: tuple[Targets, list[Case]],
) -> None:
    """Past the intake too: a list that somehow kept a media name is read as that container
    and fails, instead of reading what it names."""
    _, cases = hostile
    lists = [
        c for c in cases
        if c.path.suffix in (".wav", ".mp3", ".mp4", ".png") and c.path.is_file()
        and not c.path.is_symlink() and c.words in ("M3U/HLS playlist", "FFmpeg concat list")
    ]  # fmt: skip
    assert len(lists) == 9
    for case in lists:
        assert _decoded_md5(case.path, *input_args(case.path)) is None, case.name


def _good(tmp_path: Path) -> list[tuple[Role, Path, str]]:
    """One file of every allowed container: (role, file, label)."""
    files = {
        "a.png": image_bytes("PNG"), "a.jpg": image_bytes("JPEG"), "a.webp": image_bytes("WEBP"),
        "a.tif": image_bytes("TIFF"), "a.bmp": image_bytes("BMP"), "a.gif": image_bytes("GIF"),
        "a.wav": wav_bytes(), "a.mp3": encoded_audio("mp3", "mp3"),
        "a.m4a": encoded_audio("ipod", "aac"), "a.aac": encoded_audio("adts", "aac"),
        "a.flac": encoded_audio("flac", "flac"), "a.ogg": encoded_audio("ogg", "opus"),
    }  # fmt: skip
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    mp4 = red_clip(tmp_path / "a.mp4", seconds=0.5, size="64x48")
    for name, codec in (("a.mov", "libx264"), ("a.webm", "libvpx-vp9")):
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-i", str(mp4), "-c:v", codec, str(tmp_path / name)],
            check=True,
        )
    roles = {c.extension: (c.role, c.label) for c in CONTAINERS}
    return [(roles[p.suffix][0], p, roles[p.suffix][1]) for p in sorted(tmp_path.iterdir())]


def test_every_allowed_container_is_admitted_as_a_copy_named_by_its_content(
    tmp_path: Path,
) -> None:
    source = tmp_path / "given"
    source.mkdir()
    good = _good(source)
    assert len(good) == len(CONTAINERS) == 15
    into = tmp_path / "work" / "inputs"
    for role, path, label in good:
        admitted = admit(path, role, into=into, field="f")
        assert admitted.container.label == label
        assert admitted.path == into / f"{admitted.sha256}{admitted.container.extension}"
        assert admitted.path.read_bytes() == path.read_bytes()
        with av.open(str(admitted.path), format=admitted.container.demuxer) as box:
            assert box.format.name == admitted.container.demuxer
    assert len(list(into.iterdir())) == 15


def test_a_name_that_lies_is_kept_by_what_the_bytes_are(tmp_path: Path) -> None:
    """A JPEG named .png is admitted as the JPEG it is: FFmpeg then opens it as JPEG."""
    lying = tmp_path / "still.png"
    lying.write_bytes(image_bytes("JPEG"))
    admitted = admit(lying, Role.IMAGE, into=tmp_path / "inputs", field="f")
    assert admitted.path.suffix == ".jpg" and admitted.container.demuxer == "jpeg_pipe"


# ------------------------------------------------------------------ through the render's doors


@pytest.mark.integration
def test_a_render_refuses_hostile_music_and_voice_overs_and_writes_nothing(
    hostile: tuple[Targets, list[Case]],
    tmp_path: Path,
    write_brief: WriteBrief,
    brief_data: dict[str, Any],
) -> None:
    _, cases = hostile
    audio = [c for c in cases if c.role is Role.AUDIO]
    assert len(audio) == 13
    for n, case in enumerate(audio):
        field = "voice.file" if n % 2 else "music"
        data = json.loads(json.dumps(brief_data))
        if field == "music":
            data["music"] = str(case.path)
        else:
            data["voice"] = {"enabled": True, "file": str(case.path)}
        out = tmp_path / f"out{n}"
        with pytest.raises(BadInput) as info:
            render_ad(write_brief(data), out, preview=True)
        assert info.value.where == field, (case.name, str(info.value))
        assert not out.exists(), case.name


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The timeline file of a short preview render (9x16), its media beside it."""
    import yaml

    from tests.conftest import BASE_BRIEF, PHOTOS

    root = tmp_path_factory.mktemp("exported")
    data = json.loads(json.dumps(BASE_BRIEF))
    data["product"]["photos"] = [str(PHOTOS / "coffee.png")]
    brief = root / "brief.yaml"
    brief.write_text(yaml.safe_dump(data), encoding="utf-8")
    timeline = root / "debug" / "ad.json"
    render_ad(brief, root / "out", preview=True, export_timeline=timeline)
    return timeline


def _pointing_at(exported: Path, case: Case, target: Path) -> tuple[Path, str]:
    """A copy of the timeline file naming ``case``'s file in the place of its role; the field."""
    data = json.loads(exported.read_text())
    timeline = data["timelines"][0]
    if case.role is Role.AUDIO:
        timeline["audio"], field = str(case.path), "timelines[0].audio"
    elif case.role is Role.VIDEO:
        timeline["scenes"][0]["clip"] = {"kind": "video", "path": str(case.path)}
        field = "timelines[0].scenes[0].clip.path"
    else:
        timeline["scenes"][0]["clip"] |= {"kind": "still", "image": str(case.path)}
        field = "timelines[0].scenes[0].clip.image"
    target.write_text(json.dumps(data), encoding="utf-8")
    return target, field


@pytest.mark.integration
def test_compose_refuses_a_timeline_naming_any_file_of_the_corpus(
    hostile: tuple[Targets, list[Case]], exported: Path, tmp_path: Path
) -> None:
    _, cases = hostile
    again = tmp_path / "again"
    compose_file(exported, again)  # the timeline as exported composes
    assert sorted(p.name for p in again.iterdir()) == ["9x16.mp4"]
    for n, case in enumerate(cases):
        path, field = _pointing_at(exported, case, exported.with_name(f"hostile{n}.json"))
        out = tmp_path / f"out{n}"
        with pytest.raises(BadInput) as info:
            compose_file(path, out)
        assert info.value.where in (field, str(path)), (case.name, str(info.value))
        assert not out.exists(), case.name


class _Hostile:
    """A clip provider whose answers are files that point at another tenant's clip."""

    name, model = "hostile", "m1"

    def __init__(self, files: list[Path]) -> None:
        self.files = files

    async def make(
        self, request: ClipRequest, ctx: ClipContext, *, attempt: int = 0, **_: Any
    ) -> VideoClip:
        return VideoClip(path=self.files[(2 * request.scene_index + attempt) % len(self.files)])


@pytest.mark.integration
def test_provider_clips_pointing_at_another_tenant_fall_back_and_show_none_of_it(
    hostile: tuple[Targets, list[Case]],
    tmp_path: Path,
    write_brief: WriteBrief,
    brief_data: dict[str, Any],
) -> None:
    """The shared provider cache holds a concat list beside another tenant's red clip, an HLS
    playlist and a link name it too: each scene's clip is refused, the scene is drawn offline,
    and not one red pixel of the other tenant's clip is in the ad."""
    t, cases = hostile
    named = {c.name: c.path for c in cases}
    files = [
        named["concat in the provider cache"], named["hls to a tenant's clip"],
        named["symlink to a tenant's clip"],
    ]  # fmt: skip
    assert reddest(t.clip) == 1.0

    result = render_ad(
        write_brief(brief_data), tmp_path / "out", preview=True,
        ports=provider_ports(_Hostile(files), tmp_path / "cache"),
    )  # fmt: skip
    reasons = [f.reason for f in result.manifest.fallbacks]
    assert reasons and all("was refused: its file is" in r for r in reasons), reasons
    video = result.out_dir / "9x16.mp4"
    assert reddest(video) < 0.01
    assert all(PASSWD.read_bytes()[:32] not in p.read_bytes() for p in result.out_dir.iterdir())


def test_the_format_whitelist_reaches_the_opens_a_demuxer_makes(
    hostile: tuple[Targets, list[Case]],
) -> None:
    """Why the demuxer goes on -format_whitelist as well as -f: FFmpeg hands the whitelist to the
    opens a demuxer makes itself, so even the HLS demuxer, named, reads no segment through it.
    (File-only protocols do not stop it: the segment is a local file.)"""
    _, cases = hostile
    [case] = [c for c in cases if c.name == "hls to a tenant's clip"]
    target = _decoded_md5(case.target)
    assert target is not None
    local = ("-protocol_whitelist", "file")
    assert _decoded_md5(case.path, "-f", "hls", *local) == target
    assert _decoded_md5(case.path, "-f", "hls", "-format_whitelist", "hls", *local) is None
