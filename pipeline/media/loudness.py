"""Loudness measured the EBU R128 way (integrated, range, true peak) with FFmpeg's ebur128."""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from pipeline.containers import input_args
from pipeline.errors import MediaError
from pipeline.media.ffmpeg import run_ffmpeg

__all__ = [
    "EBUR128",
    "TARGET_LUFS",
    "TARGET_TRUE_PEAK",
    "Loudness",
    "LoudnessOfStreams",
    "audio_digest",
    "measure_graph",
    "measure_loudness",
    "parse_ebur128",
]

TARGET_LUFS = -14.0
TARGET_TRUE_PEAK = -1.5  # aim under the -1 dBTP limit: AAC encoding adds a few tenths of overshoot

# ebur128 with true peak runs about 4x faster than loudnorm's analysis (which resamples to 192 kHz).
EBUR128 = "ebur128=peak=true:framelog=quiet"


class Loudness(BaseModel):
    model_config = ConfigDict(frozen=True)

    integrated: float  # LUFS; -inf for silence
    true_peak: float  # dBTP
    lra: float

    @property
    def silent(self) -> bool:
        return not math.isfinite(self.integrated) or self.integrated < -70


def _value(summary: str, label: str) -> float:
    match = re.search(rf"{label}:\s+(-?inf|-?\d+(?:\.\d+)?)", summary)
    if match is None:
        raise MediaError("loudness", f"ebur128 printed no {label} value")
    return -math.inf if "inf" in match.group(1) else float(match.group(1))


def parse_ebur128(stderr: str) -> Loudness:
    """Read the Summary block ebur128 prints when its input ends."""
    at = stderr.rfind("Summary:")
    if at < 0:
        raise MediaError("loudness", "ebur128 printed no summary")
    summary = stderr[at:]
    return Loudness(
        integrated=_value(summary, "I"),
        lra=_value(summary, "LRA"),
        true_peak=_value(summary, "Peak"),
    )


def measure_graph(
    inputs: Sequence[str], graph: str, label: str, *, stage: str = "loudness"
) -> Loudness:
    """Loudness of the audio a filter graph produces at ``[label]``."""
    stderr = run_ffmpeg(
        [*inputs, "-filter_complex", f"{graph};[{label}]{EBUR128}[measured]",
         "-map", "[measured]", "-f", "null", "-"],
        stage=stage,
    )  # fmt: skip
    return parse_ebur128(stderr)


def measure_loudness(path: Path, *, stage: str = "loudness") -> Loudness:
    """Integrated loudness, true peak and range of a file's first audio stream."""
    stderr = run_ffmpeg(
        [*input_args(path), "-i", str(path), "-map", "0:a:0",
         "-af", EBUR128, "-f", "null", "-"],
        stage=stage,
    )  # fmt: skip
    return parse_ebur128(stderr)


def audio_digest(path: Path, *, stage: str = "loudness") -> str:
    """A hash of the encoded packets of ``path``'s first audio stream (FFmpeg's streamhash of a
    stream copy: no decoding, a few hundredths of a second). Two files with the same digest
    carry the same sound, whatever container or video is around it."""
    with tempfile.TemporaryDirectory(prefix="reelforge-digest-") as tmp:
        out = Path(tmp) / "hash.txt"
        run_ffmpeg(
            [*input_args(path), "-i", str(path), "-map", "0:a:0", "-c", "copy",
             "-f", "streamhash", "-hash", "sha256", str(out)],
            stage=stage,
        )  # fmt: skip
        return out.read_text(encoding="ascii").strip().rpartition("=")[2]


class LoudnessOfStreams:
    """Measures each distinct audio stream once: the formats of one ad all carry a stream copy
    of the same soundtrack, so QC decodes and measures it once instead of once per format,
    and still measures any output whose sound differs."""

    def __init__(self, *, stage: str = "qc") -> None:
        self.stage = stage
        self.measured: dict[str, Loudness] = {}

    def of(self, path: Path) -> Loudness:
        digest = audio_digest(path, stage=self.stage)
        if digest not in self.measured:
            self.measured[digest] = measure_loudness(path, stage=self.stage)
        return self.measured[digest]
