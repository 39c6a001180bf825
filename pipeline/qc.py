"""Automatic quality control: every output is probed and held to the ad platforms' specs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from pipeline.errors import QCError
from pipeline.formats import FormatSpec
from pipeline.media.loudness import TARGET_LUFS, Loudness
from pipeline.media.probe import Probe

__all__ = ["Check", "QCReport", "check_output", "enforce"]

DURATION_TOLERANCE = 0.1
LOUDNESS_TOLERANCE = 1.0
MAX_TRUE_PEAK = -1.0
MIN_AUDIO_KBPS = 128
MIN_VIDEO_KBPS = 516  # TikTok's floor
MAX_BYTES = 500 * 1024 * 1024  # TikTok's ceiling, the lowest of the placements


class Check(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    ok: bool
    expected: str
    actual: str
    severity: Literal["error", "warning"] = "error"  # a warning is reported, never fails a render


class QCReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    format: str
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return all(c.ok for c in self.checks if c.severity == "error")

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok and c.severity == "error")

    @property
    def warnings(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok and c.severity == "warning")


def _check(
    name: str,
    ok: bool,
    expected: str,
    actual: object,
    severity: Literal["error", "warning"] = "error",
) -> Check:
    return Check(name=name, ok=bool(ok), expected=expected, actual=str(actual), severity=severity)


def check_output(
    p: Probe,
    *,
    spec: FormatSpec,
    fps: int,
    duration: float,
    loudness: Loudness | None,
    audible: bool,
    draft: bool = False,
) -> QCReport:
    """Every check, passed or not, so the manifest can show them all.

    A draft (``--preview``) is held to everything but the platforms' bitrate and size limits.
    """
    checks = [
        _check("resolution", (p.width, p.height) == (spec.width, spec.height),
               f"{spec.width}x{spec.height}", f"{p.width}x{p.height}"),
        _check("frame_rate", abs(p.fps - fps) < 0.01 and p.constant_frame_rate, f"{fps} fps constant",
               f"{p.fps:.3f} fps{'' if p.constant_frame_rate else ' variable'}"),
        _check("video_codec", p.video_codec == "h264" and (p.profile or "").startswith("High"),
               "h264 High", f"{p.video_codec} {p.profile}"),
        _check("pixel_format", p.pix_fmt == "yuv420p", "yuv420p", p.pix_fmt),
        _check("duration", abs(p.duration - duration) <= DURATION_TOLERANCE
               and abs(p.video_duration - duration) <= DURATION_TOLERANCE,
               f"{duration:.2f}s ± {DURATION_TOLERANCE}", f"container {p.duration:.3f}s, video {p.video_duration:.3f}s"),
        _check("keyframe_interval", 0 < p.max_keyframe_interval <= 2.0 + 0.5 / fps,
               "≤ 2.0 s", f"{p.max_keyframe_interval:.2f}s"),
        _check("faststart", p.faststart, "moov before mdat", "yes" if p.faststart else "no"),
        _check("audio_present", p.audio_codec is not None, "an audio stream", p.audio_codec or "none"),
        _check("audio_codec", p.audio_codec == "aac" and p.sample_rate == 48000 and p.channels == 2,
               "aac 48000 Hz stereo", f"{p.audio_codec} {p.sample_rate} Hz {p.channels} ch"),
        # The encoder runs at 192 kbps; narrowband speech (eSpeak is 22 kHz) with no music leaves
        # it nothing to spend bits on, so the measured average can sit lower: reported, not fatal.
        _check("audio_bitrate", (p.audio_bit_rate or 0) >= MIN_AUDIO_KBPS * 1000,
               f"≥ {MIN_AUDIO_KBPS} kbps measured (encoded at 192 kbps)",
               f"{(p.audio_bit_rate or 0) // 1000} kbps", "warning"),
    ]  # fmt: skip
    if not draft:
        checks.append(_check("video_bitrate", p.bit_rate >= MIN_VIDEO_KBPS * 1000,
                             f"≥ {MIN_VIDEO_KBPS} kbps", f"{p.bit_rate // 1000} kbps"))  # fmt: skip
        checks.append(_check("file_size", p.size_bytes <= MAX_BYTES, "≤ 500 MB",
                             f"{p.size_bytes / 1e6:.1f} MB"))  # fmt: skip
    if audible:
        if loudness is None:
            checks.append(_check("loudness", False, f"{TARGET_LUFS} LUFS", "not measured"))
        else:
            checks.append(
                _check("loudness", abs(loudness.integrated - TARGET_LUFS) <= LOUDNESS_TOLERANCE,
                       f"{TARGET_LUFS} ± {LOUDNESS_TOLERANCE} LUFS", f"{loudness.integrated:.1f} LUFS")
            )  # fmt: skip
            checks.append(
                _check("true_peak", loudness.true_peak <= MAX_TRUE_PEAK,
                       f"≤ {MAX_TRUE_PEAK} dBTP", f"{loudness.true_peak:.1f} dBTP")
            )  # fmt: skip
    return QCReport(format=spec.format.value, checks=tuple(checks))


def enforce(report: QCReport) -> None:
    """Raise QCError naming the first failed check."""
    for check in report.failures:
        if not check.ok:
            raise QCError(
                check.name, f"{report.format}: expected {check.expected}, got {check.actual}"
            )
