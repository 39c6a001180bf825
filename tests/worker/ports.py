"""Ports for worker tests: FakeVoice, optionally gated on a file so a test can catch a job mid-render."""

from __future__ import annotations

import os
import time
from pathlib import Path

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
        deadline = time.monotonic() + 60
        while not self.gate.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"gate {self.gate} never opened")
            time.sleep(0.02)
        return super().synthesize(text, locale=locale, out=out, voice=voice, rate=rate)


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
