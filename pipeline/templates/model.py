"""Template value objects: an ad's slot structure, pacing, caption style and call to action."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "ANGLES",
    "LANGUAGES",
    "Angle",
    "CaptionStyle",
    "Motion",
    "Pacing",
    "Slot",
    "SlotKind",
    "SlotRole",
    "Template",
    "Transition",
]

SlotKind = Literal["photo", "text_card", "end_card"]
SlotRole = Literal[
    "hook",
    "problem",
    "solution",
    "feature",
    "benefit",
    "proof",
    "offer",
    "how_to_step",
    "comparison",
    "before",
    "after",
    "reveal",
    "cta",
]
# Only xfade transitions that read well at 0.2-0.6 s and render on every FFmpeg >= 4.3 build.
Transition = Literal[
    "fade", "fadeblack", "dissolve", "slideleft", "slideup", "wipeleft", "smoothleft", "circleopen"
]
Motion = Literal["gentle", "dynamic"]
Angle = Literal[
    "benefit-led", "problem-led", "feature-led", "price-led", "proof-led", "curiosity-led"
]
ANGLES: tuple[Angle, ...] = (
    "benefit-led",
    "problem-led",
    "feature-led",
    "price-led",
    "proof-led",
    "curiosity-led",
)
LANGUAGES: tuple[str, ...] = ("en", "it")

# Roles whose scenes each show one product feature; only these may be repeated for long ads.
FEATURE_ROLES: frozenset[str] = frozenset({"feature", "how_to_step"})
# The end card carries the spoken CTA, so it needs time for two or three words whatever the pacing.
END_CARD_MIN_SECONDS = 1.6


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Slot(_Frozen):
    """One scene position in a template."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    kind: SlotKind
    role: SlotRole
    weight: float = Field(gt=0, le=10, description="relative share of the ad's duration")
    max_chars: int = Field(ge=12, le=80, description="on-screen text limit for this slot")
    photo: int | None = Field(default=None, ge=0, description="preferred product photo index")
    repeat: int = Field(
        default=0,
        ge=0,
        le=4,
        description="extra copies the writer may add for long ads, one per unused feature",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Slot:
        if self.repeat and self.role not in FEATURE_ROLES:
            raise ValueError(f"slot {self.name!r}: only feature slots may repeat")
        if self.photo is not None and self.kind != "photo":
            raise ValueError(f"slot {self.name!r}: only photo slots take a photo hint")
        if (self.kind == "end_card") != (self.role == "cta"):
            raise ValueError(f"slot {self.name!r}: the end card, and only it, has role cta")
        return self


class Pacing(_Frozen):
    transition: Transition
    transition_seconds: float = Field(ge=0.2, le=0.6)
    motion: Motion
    min_scene_seconds: float = Field(ge=1.0, le=4.0)
    max_scene_seconds: float = Field(
        default=6.0,
        ge=2.0,
        le=15.0,
        description="above this the writer adds repeatable feature scenes if it can",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Pacing:
        if self.max_scene_seconds < self.min_scene_seconds:
            raise ValueError("max_scene_seconds is below min_scene_seconds")
        # A transition eats into both neighbours; it must leave most of the shortest scene visible.
        if self.transition_seconds > self.min_scene_seconds / 2:
            raise ValueError("transition_seconds is more than half of min_scene_seconds")
        return self


class CaptionStyle(_Frozen):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    max_words: int = Field(ge=1, le=4, description="words per caption line")
    uppercase: bool
    scale: float = Field(ge=0.8, le=1.3, description="size relative to the default caption")
    position: Literal["lower", "middle"]


class Template(_Frozen):
    """An ad structure; ``slots`` run in order, hook first and end card last."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    title: str = Field(min_length=1, max_length=60)
    description: str = Field(min_length=1, max_length=400)
    slots: tuple[Slot, ...] = Field(min_length=2, max_length=12)
    pacing: Pacing
    caption_style: CaptionStyle
    cta: dict[str, str]
    min_duration: float = Field(ge=6, le=60)
    max_duration: float = Field(ge=6, le=60)
    angles: tuple[Angle, ...] = Field(
        default=(), description="angles to try first, in order; the rest follow in ANGLES order"
    )
    tags: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _structure(self) -> Template:
        if self.slots[0].role != "hook":
            raise ValueError("the first slot must have role hook")
        if self.slots[-1].kind != "end_card":
            raise ValueError("the last slot must be an end_card")
        if any(s.kind == "end_card" for s in self.slots[:-1]):
            raise ValueError("only the last slot may be an end_card")
        names = [s.name for s in self.slots]
        if len(set(names)) != len(names):
            raise ValueError("slot names must be unique")
        missing = [lang for lang in LANGUAGES if lang not in self.cta]
        if missing:
            raise ValueError(f"cta is missing languages: {', '.join(missing)}")
        end = self.slots[-1]
        for lang, text in self.cta.items():
            if not text.strip() or len(text) > end.max_chars:
                raise ValueError(f"cta[{lang}] must be 1-{end.max_chars} characters")
        if self.min_duration > self.max_duration:
            raise ValueError("min_duration is above max_duration")
        if self.minimum_seconds() > self.min_duration:
            raise ValueError(
                f"min_duration {self.min_duration:g} s cannot fit {len(self.slots)} slots "
                f"(needs {self.minimum_seconds():g} s)"
            )
        if len(set(self.angles)) != len(self.angles):
            raise ValueError("angles lists an angle twice")
        return self

    def minimum_seconds(self) -> float:
        """The shortest duration that gives every slot its minimum scene length."""
        return round(sum(slot_min_seconds(s, self.pacing) for s in self.slots), 2)

    def angle_order(self) -> tuple[Angle, ...]:
        return (*self.angles, *(a for a in ANGLES if a not in self.angles))


def slot_min_seconds(slot: Slot, pacing: Pacing) -> float:
    if slot.kind == "end_card":
        return max(pacing.min_scene_seconds, END_CARD_MIN_SECONDS)
    return pacing.min_scene_seconds
