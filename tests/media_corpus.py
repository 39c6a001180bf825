"""Hostile media for the render's intake tests, made on the spot: another tenant's outputs (the
targets), and files that point FFmpeg at them or at ``/etc/passwd`` (HLS and concat playlists,
one named ``.wav``, a concat list beside its target in the shared provider cache, symbolic
links, image2 patterns in names, an SDP file, a FIFO, truncated files), each with the role it is offered as and the words its
refusal says. ``live`` marks the files FFmpeg, left to guess the demuxer as it did before
(``-protocol_whitelist file,pipe`` and nothing else), really reads the target through."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from pipeline.containers import Role
from pipeline.media.ffmpeg import ffmpeg_exe
from pipeline.providers.cache import ProviderCache
from pipeline.providers.runtime import ProviderRuntime, SceneSource
from pipeline.providers.scenes import ProviderClips
from pipeline.render import Ports
from pipeline.visuals import ClipContext, offline_clips
from tests.upload_corpus import PHOTO, wav_bytes

PASSWD = Path("/etc/passwd")
RED = (255, 0, 0)


@dataclass(frozen=True)
class Targets:
    """Another tenant's files: a red clip, a tone, a red picture."""

    clip: Path
    voice: Path
    picture: Path
    cached_clip: Path  # the same red clip, as an entry of the shared provider cache


@dataclass(frozen=True)
class Case:
    name: str
    role: Role
    path: Path
    words: str  # what the refusal says
    target: Path  # what the file points FFmpeg at
    live: bool = False  # FFmpeg left to guess reads the target through it


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


def red_clip(path: Path, *, seconds: float = 8.0, size: str = "480x854") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    _ffmpeg(
        "-f", "lavfi", "-i", f"color=c=red:s={size}:d={seconds}:r=15",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path),
    )  # fmt: skip
    return path


def targets(root: Path) -> Targets:
    other = root / "tenant-b" / "out"
    clip = red_clip(other / "9x16.mp4")
    voice = other / "voice.wav"
    voice.write_bytes(wav_bytes(seconds=2.0))
    picture = other / "frame001.png"
    _ffmpeg("-f", "lavfi", "-i", "color=c=red:s=64x64", "-frames:v", "1", str(picture))
    cache = root / "cache" / "ab"
    cache.mkdir(parents=True)
    cached = cache / f"{'ab' + '0' * 62}.mp4"
    cached.write_bytes(clip.read_bytes())
    return Targets(clip=clip, voice=voice, picture=picture, cached_clip=cached)


def _hls(target: Path, *, url: bool = True) -> bytes:
    named = f"file://{target}" if url else str(target)
    return (f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:8,\n{named}\n#EXT-X-ENDLIST\n").encode()


def _concat(target: str, *, header: bool = True) -> bytes:
    return (("ffconcat version 1.0\n" if header else "# list\n") + f"file '{target}'\n").encode()


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _link(path: Path, target: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    return path


def corpus(root: Path, t: Targets) -> list[Case]:
    """Every hostile file, in ``root/tenant-a`` (and the shared cache, and the target's own
    folder for the pattern names, which name no file of their own)."""
    mine = root / "tenant-a"
    fifo = mine / "fifo.wav"
    mine.mkdir(parents=True, exist_ok=True)
    os.mkfifo(fifo)
    hls, concat = "M3U/HLS playlist", "FFmpeg concat list"
    A, V, I = Role.AUDIO, Role.VIDEO, Role.IMAGE  # noqa: E741
    return [
        Case("hls to a tenant's voice", A, _write(mine / "voice.m3u8", _hls(t.voice)), hls, t.voice),
        Case("hls named .wav", A, _write(mine / "music.wav", _hls(t.voice)), hls, t.voice),
        Case("hls to /etc/passwd", A, _write(mine / "passwd.m3u8", _hls(PASSWD)), hls, PASSWD),
        Case("concat to a tenant's voice", A, _write(mine / "concat.wav", _concat(str(t.voice))), concat, t.voice),
        Case("concat to /etc/passwd", A, _write(mine / "passwd.wav", _concat(str(PASSWD))), concat, PASSWD),
        Case("bare concat as .mp3", A, _write(t.voice.with_name("list.mp3"), _concat("voice.wav", header=False)), concat, t.voice),
        Case("concat beside its target", A, _write(t.voice.with_name("music.wav"), _concat("voice.wav")), concat, t.voice, live=True),
        Case("symlink to a tenant's voice", A, _link(mine / "link.wav", t.voice), "symbolic link", t.voice, live=True),
        Case("sdp named .wav", A, _write(mine / "sdp.wav", b"v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nm=audio 5004 RTP/AVP 0\n"), "SDP", PASSWD),
        Case("a fifo", A, fifo, "not a regular file", PASSWD),
        Case("hls to a tenant's clip", V, _write(mine / "clip.m3u8", _hls(t.clip, url=False)), hls, t.clip, live=True),
        Case("hls named .mp4", V, _write(mine / "clip.mp4", _hls(t.clip, url=False)), hls, t.clip),
        Case("concat in the provider cache", V, _write(t.cached_clip.with_name("ab" + "1" * 62 + ".mp4"), _concat(t.cached_clip.name)), concat, t.cached_clip, live=True),
        Case("concat to /etc/passwd as .mp4", V, _write(mine / "passwd.mp4", _concat(str(PASSWD))), concat, PASSWD),
        Case("symlink to a tenant's clip", V, _link(mine / "link.mp4", t.clip), "symbolic link", t.clip, live=True),
        Case("audio offered as video", V, _write(mine / "sound.mp4", wav_bytes()), "not a video file", t.clip),
        Case("image2 pattern to a tenant's frames", I, t.picture.with_name("frame%03d.png"), "patterns such as %d", t.picture, live=True),
        Case("glob pattern to a tenant's frames", I, t.picture.with_name("*.png"), "patterns such as %d", t.picture),
        Case("hls named .png", I, _write(mine / "still.png", _hls(t.picture, url=False)), hls, t.picture),
        Case("symlink to a tenant's picture", I, _link(mine / "still-link.png", t.picture), "symbolic link", t.picture, live=True),
        Case("a photo offered as audio", A, _write(mine / "photo.wav", PHOTO.read_bytes()), "not an audio file", PASSWD),
        Case("pattern name as audio", A, t.voice.with_name("voice%d.wav"), "patterns such as %d", t.voice),
        Case("truncated wav", A, _write(mine / "cut.wav", _half(wav_bytes(seconds=2.0))), "truncated", PASSWD),
        Case("truncated mp4", V, _write(mine / "cut.mp4", _half(t.clip.read_bytes())), "not a readable MP4", t.clip),
        Case("truncated png", I, _write(mine / "cut.png", _half(PHOTO.read_bytes())), "", PASSWD),
    ]  # fmt: skip


def provider_ports(source: SceneSource, cache: Path) -> Ports:
    """Ports whose clips come from ``source`` through the provider fan-out (admission, checks,
    fallback to the offline adapter), its cache in ``cache``."""

    def factory(ctx: ClipContext) -> ProviderClips:
        runtime = ProviderRuntime(cache=ProviderCache(cache))
        return ProviderClips(source=source, ctx=ctx, runtime=runtime, offline=offline_clips(ctx))

    return Ports(clip_factory=factory)


def reddest(path: Path) -> float:
    """The largest share of pure-red pixels in any frame of ``path``."""
    shares = []
    with av.open(str(path)) as box:
        for frame in box.decode(video=0):
            rgb = frame.to_ndarray(format="rgb24").astype(int)
            red = (rgb[..., 0] > 200) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)
            shares.append(float(np.mean(red)))
    return max(shares)
