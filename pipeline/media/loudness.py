"""Loudness measured the EBU R128 way, with FFmpeg's loudnorm analysis."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from pipeline.errors import MediaError
from pipeline.media.ffmpeg import SAFE_PROTOCOLS, run_ffmpeg

__all__ = ["Loudness", "measure_loudness", "parse_loudnorm_json"]

TARGET_LUFS = -14.0
TARGET_TRUE_PEAK = -1.5  # aim below the -1 dBTP limit: AAC encoding adds a few tenths of overshoot
TARGET_LRA = 11.0


class Loudness(BaseModel):
    model_config = ConfigDict(frozen=True)

    integrated: float  # LUFS; -inf for silence
    true_peak: float  # dBTP
    lra: float
    threshold: float

    @property
    def silent(self) -> bool:
        return not math.isfinite(self.integrated) or self.integrated < -70


_JSON = re.compile(r"\{[^{}]*\"input_i\"[^{}]*\}", re.S)


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return -math.inf


def parse_loudnorm_json(stderr: str) -> dict[str, str]:
    found = _JSON.findall(stderr)
    if not found:
        raise MediaError("loudness", "loudnorm printed no measurement")
    data: dict[str, str] = json.loads(found[-1])
    return data


def measure_loudness(path: Path) -> Loudness:
    """Integrated loudness, true peak and range of a file's first audio stream."""
    stderr = run_ffmpeg(
        [
            "-protocol_whitelist", SAFE_PROTOCOLS,
            "-i", str(path),
            "-map", "0:a:0",
            "-af", f"loudnorm=I={TARGET_LUFS}:TP={TARGET_TRUE_PEAK}:LRA={TARGET_LRA}:print_format=json",
            "-f", "null", "-",
        ],
        stage="loudness",
    )  # fmt: skip
    data = parse_loudnorm_json(stderr)
    return Loudness(
        integrated=_number(data["input_i"]),
        true_peak=_number(data["input_tp"]),
        lra=_number(data["input_lra"]),
        threshold=_number(data["input_thresh"]),
    )
