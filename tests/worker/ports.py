"""Ports for worker tests: FakeVoice, optionally gated on a file so a test can catch a job
mid-render (waiting, or running a real FFmpeg as the worker's child)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from pipeline.media.ffmpeg import run_ffmpeg
from pipeline.render import Ports, RenderRequest
from pipeline.voice import FakeVoice
from pipeline.voice.model import Speech
from pipeline.wiring import Runtime

GATE_ENV = "REELFORGE_TEST_GATE"


class GatedVoice(FakeVoice):
    """Speaks like FakeVoice once ``gate`` exists; until then the voice stage waits (60 s at most)."""

    def __init__(self, gate: Path) -> None:
        super().__init__()
        self.gate = gate

    def synthesize(
        self,
        text: str,
        *,
        locale: str,
        out: Path,
        voice: str | None = None,
        rate: int | None = None,
    ) -> Speech:
        self.hold()
        return super().synthesize(text, locale=locale, out=out, voice=voice, rate=rate)

    def hold(self) -> None:
        deadline = time.monotonic() + 60
        while not self.gate.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"gate {self.gate} never opened")
            time.sleep(0.02)


class EncodingVoice(GatedVoice):
    """Until ``gate`` exists, each line first runs FFmpeg through the render's own runner: a
    silent stream read in real time for up to 120 s, so a test finds it running."""

    def hold(self) -> None:
        if not self.gate.exists():
            silence = ["-re", "-f", "lavfi", "-i", "anullsrc=r=48000", "-t", "120", "-f", "null"]
            run_ffmpeg([*silence, "-"], stage="voice")


class FailingVoice(FakeVoice):
    def synthesize(
        self,
        text: str,
        *,
        locale: str,
        out: Path,
        voice: str | None = None,
        rate: int | None = None,
    ) -> Speech:
        raise RuntimeError("voice provider is down")


def fake_ports(request: RenderRequest, runtime: Runtime) -> Ports:
    return Ports(voice=FakeVoice())


def gated_ports(request: RenderRequest, runtime: Runtime) -> Ports:
    return Ports(voice=GatedVoice(Path(os.environ[GATE_ENV])))


def encoding_ports(request: RenderRequest, runtime: Runtime) -> Ports:
    return Ports(voice=EncodingVoice(Path(os.environ[GATE_ENV])))
