"""Script value objects: the scenes of one ad option, shaped for an LLM's structured output too."""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "BASE_RATE",
    "VOICE_LEAD",
    "VOICE_TAIL",
    "Scene",
    "SceneKind",
    "Script",
    "script_hash",
    "script_json_schema",
    "voice_room",
]

BASE_RATE = 175  # eSpeak's default words per minute: a brief's voice.rate is relative to it
VOICE_LEAD = 0.15  # seconds of picture before a scene's voice starts
VOICE_TAIL = 0.10  # breath kept before the next scene


def voice_room(seconds: float) -> float:
    """The seconds a scene of ``seconds`` leaves for its voice: what the writer budgets words
    for and the voice stage fits the line into."""
    return max(0.0, seconds - VOICE_LEAD - VOICE_TAIL)


class SceneKind(StrEnum):
    PHOTO = "photo"
    TEXT_CARD = "text_card"
    END_CARD = "end_card"


class _Frozen(BaseModel):
    # extra="forbid" also puts additionalProperties: false in the schema, as strict
    # structured-output modes require.
    model_config = ConfigDict(frozen=True, extra="forbid")


class Scene(_Frozen):
    """One shot of the ad, in playback order."""

    index: int = Field(ge=0, description="0-based position of the scene in the ad")
    slot: str = Field(min_length=1, description="name of the template slot this scene fills")
    kind: SceneKind = Field(
        description="photo: a product photo; text_card: text on the brand colour; "
        "end_card: the closing call to action"
    )
    photo: int | None = Field(
        ge=0,
        description="0-based index into the brief's product photos; required for photo scenes, "
        "null for text cards and the end card",
    )
    on_screen_text: str = Field(
        description="short text shown on screen, within the slot's character limit"
    )
    voiceover: str = Field(
        description="words spoken over this scene; may be empty; must be speakable in duration"
    )
    visual: str = Field(min_length=1, description="plain English description of what is seen")
    duration: float = Field(gt=0, le=60, description="seconds on screen")

    @model_validator(mode="after")
    def _photo_matches_kind(self) -> Scene:
        if self.kind is SceneKind.PHOTO and self.photo is None:
            raise ValueError(f"scene {self.index}: a photo scene needs a photo index")
        if self.kind is not SceneKind.PHOTO and self.photo is not None:
            raise ValueError(f"scene {self.index}: only photo scenes take a photo index")
        return self


class Script(_Frozen):
    """One complete ad option: its angle, hook, call to action and scenes."""

    option: int = Field(ge=1, description="1-based option number among the alternatives")
    template: str = Field(min_length=1, description="name of the template the script follows")
    locale: str = Field(description="language of all text and voiceover, e.g. 'en' or 'it-IT'")
    angle: str = Field(
        min_length=1, description="creative angle, e.g. 'benefit-led' or 'price-led'"
    )
    hook: str = Field(min_length=1, description="the opening line that stops the scroll")
    cta: str = Field(min_length=1, description="the call to action, spoken on the end card")
    scenes: tuple[Scene, ...] = Field(
        min_length=2, description="scenes in playback order; the last is the end card"
    )

    @model_validator(mode="after")
    def _ordered(self) -> Script:
        for position, scene in enumerate(self.scenes):
            if scene.index != position:
                raise ValueError(f"scene {position} has index {scene.index}")
        if self.scenes[-1].kind is not SceneKind.END_CARD:
            raise ValueError("the last scene must be the end card")
        if any(s.kind is SceneKind.END_CARD for s in self.scenes[:-1]):
            raise ValueError("only the last scene may be an end card")
        return self

    @property
    def duration(self) -> float:
        """Total seconds, at the centisecond resolution scene durations are written in."""
        return round(sum(s.duration for s in self.scenes), 2)


def script_json_schema() -> dict[str, Any]:
    """The JSON schema of :class:`Script`, for asking an LLM for scripts as structured output."""
    return Script.model_json_schema()


def script_hash(script: Script) -> str:
    """SHA-256 of the script's canonical JSON: the same words and timing give the same hash."""
    return hashlib.sha256(script.model_dump_json().encode()).hexdigest()
