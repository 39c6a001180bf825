"""The manifest written beside the outputs: what was made, from what, and why."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from pipeline.creative import CreativeAttributes
from pipeline.palette.model import Palette
from pipeline.prompts import ScenePrompt
from pipeline.qc import QCReport
from pipeline.script.model import Script
from pipeline.usage import Usage
from pipeline.visuals.port import Credit, Fallback
from pipeline.voice.model import WordTiming

__all__ = ["Manifest", "OutputEntry", "VoiceLine"]

MANIFEST_VERSION = 3  # 2: the rendered script and its hash, a timeline hash per output;
# 3: each voice line names its engine and the text it was given to say


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class OutputEntry(_Frozen):
    format: str
    path: str  # relative to the manifest's folder
    poster: str
    width: int
    height: int
    duration: float
    size_bytes: int
    loudness_lufs: float | None
    true_peak_dbtp: float | None
    qc: QCReport
    # What was composed, independent of where it ran: the timeline with every file it names
    # replaced by the hash of its bytes (pipeline.render.timelines.timeline_hash).
    timeline_hash: str
    creative: CreativeAttributes | None = None  # its identity for performance reports


class VoiceLine(_Frozen):
    scene: int
    start: float  # seconds into the ad
    text: str  # as written in the script (and shown in the captions)
    voice: str  # the voice that spoke it: "heart", "en-us", "elevenlabs:<voice id>"
    words: tuple[WordTiming, ...]  # the written words, times relative to the ad
    # What made the audio: "hibari", "espeak-ng", "elevenlabs", "voice-over" (the brief's own
    # file); "unknown" in manifests written before engines were recorded.
    engine: str = "unknown"
    spoken: str | None = None  # the normalised text the engine said ("twenty-four dollars ...")


class Manifest(_Frozen):
    version: int = MANIFEST_VERSION
    reelforge: str
    created_at: str
    brief_hash: str
    brief: dict[str, Any]
    sku: str
    template: str
    preview: bool
    palette: Palette
    script: Script  # the script rendered: the user's choice, exactly as chosen
    script_hash: str  # SHA-256 of that script's canonical JSON (pipeline.script.script_hash)
    scripts: tuple[Script, ...]  # the options written by this render; () when given a script
    chosen_option: int
    prompts: tuple[ScenePrompt, ...]
    voice: tuple[VoiceLine, ...]
    soundtrack_lufs: float | None
    outputs: tuple[OutputEntry, ...]
    compose_mode: str
    stages: dict[str, float]
    reused: tuple[str, ...] = ()  # stages taken from an earlier attempt's checkpoints
    provider_calls: tuple[Usage, ...] = ()  # every provider call and cache hit, priced
    provider_credits: int = 0  # what those calls cost, charged to the job
    fallbacks: tuple[Fallback, ...] = ()  # scenes made offline because their provider failed
    credits: tuple[Credit, ...] = ()  # attribution owed for stock footage the ad uses
