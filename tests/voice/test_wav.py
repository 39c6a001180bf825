from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import MediaError
from pipeline.voice import wav_duration
from pipeline.voice.wav import write_wav


def test_write_then_measure(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "a.wav"
    write_wav(out, np.zeros(11025, dtype=np.int16), 22050)
    assert wav_duration(out) == 0.5
    assert [p.name for p in out.parent.iterdir()] == ["a.wav"]


def test_failed_write_leaves_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "a.wav"
    out.write_bytes(b"old")

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk gone"):
        write_wav(out, np.zeros(10, dtype=np.int16), 22050)
    assert [p.name for p in tmp_path.iterdir()] == ["a.wav"]
    assert out.read_bytes() == b"old"


def test_unreadable_wav_is_a_media_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not a wav")
    with pytest.raises(MediaError):
        wav_duration(bad)
    with pytest.raises(MediaError):
        wav_duration(tmp_path / "missing.wav")
