"""Files for upload tests, made on the spot: good ones of every accepted format, and the bad
corpus (bombs, playlists in disguise, truncations, lying names) with the field each names."""

from __future__ import annotations

import io
import math
import struct
import wave
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "examples" / "photos" / "coffee.png"


def font_bytes() -> bytes:
    """Red Hat Display from the font-rhd wheel (a TrueType font)."""
    import font_rhd

    return (Path(font_rhd.font_directory) / "RedHatDisplay-ExtraBold.ttf").read_bytes()


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, format=fmt)
    return out.getvalue()


def wav_bytes(seconds: float = 0.5, rate: int = 16_000) -> bytes:
    samples = (np.sin(np.arange(int(seconds * rate)) * 2 * math.pi * 440 / rate) * 8000).astype(
        "<i2"
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return out.getvalue()


def encoded_audio(container: str, codec: str, seconds: float = 0.5) -> bytes:
    """A tone encoded with PyAV: ``("mp3", "mp3")``, ``("ipod", "aac")``, ``("adts", "aac")``,
    ``("flac", "flac")``, ``("ogg", "opus")``."""
    rate = 48_000
    out = io.BytesIO()
    with av.open(out, "w", format=container) as box:
        stream = box.add_stream(codec, rate=rate)
        stream.layout = "mono"
        tone = np.sin(np.arange(int(seconds * rate)) * 2 * math.pi * 440 / rate) * 0.2
        frame = av.AudioFrame.from_ndarray(
            tone.astype(np.float32).reshape(1, -1), format="flt", layout="mono"
        )
        frame.sample_rate = rate
        frame.pts = 0
        frame.time_base = Fraction(1, rate)
        for packet in stream.encode(frame):
            box.mux(packet)
        for packet in stream.encode(None):
            box.mux(packet)
    return out.getvalue()


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A real PNG signature and IHDR claiming ``width`` x ``height``, and no pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + struct.pack(">I", 0)
        + b"IEND"
        + struct.pack(">I", zlib.crc32(b"IEND"))
    )


HLS = b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"
CONCAT = b"ffconcat version 1.0\nfile '/etc/passwd'\n"
BARE_CONCAT = b"# my list\nfile '/etc/passwd'\nfile 'http://169.254.169.254/latest'\n"
SDP = b"v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nm=audio 5004 RTP/AVP 0\n"


def good_files() -> list[tuple[str, str, bytes, str]]:
    """(kind, file name, bytes, stored suffix) of accepted uploads, one per format."""
    return [
        ("photo", "cup.png", PHOTO.read_bytes(), ".png"),
        ("photo", "cup.jpeg", image_bytes("JPEG"), ".jpg"),
        ("logo", "logo.webp", image_bytes("WEBP"), ".webp"),
        ("logo", "logo", image_bytes("GIF"), ".gif"),  # no suffix: the bytes decide
        ("font", "Brand.ttf", font_bytes(), ".ttf"),
        ("music", "song.wav", wav_bytes(), ".wav"),
        ("music", "song.mp3", encoded_audio("mp3", "mp3"), ".mp3"),
        ("voice_over", "vo.m4a", encoded_audio("ipod", "aac"), ".m4a"),
        ("voice_over", "vo.aac", encoded_audio("adts", "aac"), ".aac"),
        ("music", "song.flac", encoded_audio("flac", "flac"), ".flac"),
        ("music", "song.ogg", encoded_audio("ogg", "opus"), ".ogg"),
    ]


def bad_files() -> list[tuple[str, str, str, bytes, str, str]]:
    """(case, kind, file name, bytes, field named, words the problem contains)."""
    wav = wav_bytes(seconds=2.0)
    return [
        ("empty", "photo", "cup.png", b"", "file", "empty"),
        ("bomb", "photo", "huge.png", png_bomb(), "file", "megapixel"),
        ("truncated png", "photo", "cup.png", PHOTO.read_bytes()[:4000], "file", "truncated"),
        ("truncated wav", "music", "song.wav", wav[: len(wav) // 2], "file", "truncated"),
        ("hls as wav", "music", "song.wav", HLS, "file", "HLS playlist"),
        ("hls as mp3", "voice_over", "vo.mp3", HLS, "file", "HLS playlist"),
        ("concat as wav", "music", "song.wav", CONCAT, "file", "concat list"),
        ("bare concat as mp3", "music", "song.mp3", BARE_CONCAT, "file", "concat list"),
        ("sdp as wav", "music", "song.wav", SDP, "file", "SDP"),
        ("hls as photo", "photo", "cup.png", HLS, "file", "HLS playlist"),
        ("text as font", "font", "Brand.ttf", b"not a font at all", "file", "not a TrueType"),
        ("png as music", "music", "song.mp3", PHOTO.read_bytes(), "file", "single-file audio"),
        ("wav as photo", "photo", "cup.png", wav, "file", "not a supported image"),
        (
            "lying png",
            "photo",
            "cup.png",
            image_bytes("JPEG"),
            "file",
            "named .png but holds a JPEG",
        ),
        ("lying mp3", "music", "song.mp3", wav, "file", "named .mp3 but holds WAV"),
        ("video as music", "music", "clip.mp4", _video_bytes(), "file", "video"),
    ]


def _video_bytes() -> bytes:
    return (ROOT / "tests" / "providers" / "data" / "tiny_clip.mp4").read_bytes()
