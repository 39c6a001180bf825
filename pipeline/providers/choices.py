"""Which provider serves each stage of one render, from the brief, the settings and the keys
(the adapters themselves are built by ``pipeline.wiring``), and what those providers will cost.

Choice per stage: the brief's ``providers:`` section, else ``REELFORGE_<STAGE>_PROVIDER``, else
the first provider in the stage's order whose key is set, else the offline adapter. Naming a
provider whose key is missing is an error naming the variable, raised before anything is spent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from pipeline.brief import Brief
from pipeline.errors import BadInput
from pipeline.formats import Format
from pipeline.providers.prices import PriceTable
from pipeline.settings import ProviderSettings
from pipeline.templates.registry import get_template

__all__ = [
    "ACCEPTED",
    "KEYS",
    "STAGES",
    "Choice",
    "choices",
    "has_key",
    "provider_estimate",
    "require_key",
]

# Per stage, the providers tried in order when none is chosen; "offline" needs no key.
STAGES: dict[str, tuple[str, ...]] = {
    "script": ("openrouter", "openai", "gemini"),
    "clips": ("kling", "fal"),
    "voice": ("elevenlabs",),
    "transcriber": ("elevenlabs",),
}
# Every provider a stage accepts by name (the auto order is a subset).
ACCEPTED: dict[str, tuple[str, ...]] = {
    "script": ("offline", "openrouter", "openai", "gemini"),
    "clips": ("offline", "kling", "fal", "flux", "pexels", "heygen"),
    "voice": ("offline", "elevenlabs"),
    "transcriber": ("elevenlabs",),
}
# The environment variables each provider's key lives in.
KEYS: dict[str, tuple[str, ...]] = {
    "openrouter": ("OPENROUTER_API_KEY",),
    "openai": ("OPENAI_API_KEY",),
    "gemini": ("GEMINI_API_KEY",),
    "kling": ("KLING_ACCESS_KEY", "KLING_SECRET_KEY"),
    "fal": ("FAL_KEY",),
    "flux": ("FAL_KEY",),
    "elevenlabs": ("ELEVENLABS_API_KEY",),
    "pexels": ("PEXELS_API_KEY",),
    "heygen": ("HEYGEN_API_KEY",),
}
_KEY_NAMES = {"flux": "fal"}
_SETTING = {
    "script": "REELFORGE_SCRIPT_PROVIDER",
    "clips": "REELFORGE_CLIP_PROVIDER",
    "voice": "REELFORGE_VOICE_PROVIDER",
    "transcriber": "REELFORGE_VOICE_PROVIDER",
}  # flux images are made at fal, with fal's key


@dataclass(frozen=True)
class Choice:
    stage: str
    provider: str  # "offline" or a provider name
    model: str | None
    source: str  # "brief", "settings", "key" (auto: its key is set) or "default"
    key_set: bool


def has_key(settings: ProviderSettings, provider: str) -> bool:
    if provider == "offline":
        return True
    if provider == "kling":
        return settings.key("kling_access") is not None and settings.key("kling_secret") is not None
    return settings.key(_KEY_NAMES.get(provider, provider)) is not None


def _choose(stage: str, asked: str | None, source: str, settings: ProviderSettings) -> Choice:
    model = {
        "script": settings.script_model,
        "clips": settings.clip_model,
        "voice": settings.voice_model,
        "transcriber": None,
    }[stage]
    if asked is not None:
        if asked not in ACCEPTED[stage]:
            raise BadInput(
                f"providers.{stage}" if source == "brief" else _SETTING[stage],
                f"unknown provider {asked!r}; one of {', '.join(ACCEPTED[stage])}",
            )
        return Choice(stage, asked, model, source, has_key(settings, asked))
    for provider in STAGES[stage]:
        if has_key(settings, provider):
            return Choice(stage, provider, model, "key", True)
    if stage == "transcriber":  # nothing offline transcribes: a voice-over file needs a key
        return Choice(stage, "none", None, "default", False)
    return Choice(stage, "offline", None, "default", True)


def choices(brief: Brief | None, settings: ProviderSettings) -> dict[str, Choice]:
    """The provider each stage will use for ``brief`` (None: for a brief that names none)."""
    asked = brief.providers if brief is not None else None
    out: dict[str, Choice] = {}
    for stage, from_settings in (
        ("script", settings.script_provider),
        ("clips", settings.clip_provider),
        ("voice", settings.voice_provider),
        ("transcriber", None),
    ):
        from_brief = getattr(asked, stage, None) if asked is not None else None
        if from_brief is not None:
            choice = _choose(stage, from_brief, "brief", settings)
        else:
            choice = _choose(stage, from_settings, "settings" if from_settings else "", settings)
        if stage == "script" and asked is not None and asked.script_model:
            choice = Choice(stage, choice.provider, asked.script_model, "brief", choice.key_set)
        if stage == "clips" and asked is not None and asked.clip_model:
            choice = Choice(stage, choice.provider, asked.clip_model, "brief", choice.key_set)
        out[stage] = choice
    return out


def _aspects(formats: Sequence[Format]) -> int:
    """Distinct generation shapes: 4:5 is generated 9:16 and cropped."""
    shape = {Format.V9X16: "9:16", Format.V4X5: "9:16", Format.V1X1: "1:1", Format.V16X9: "16:9"}
    return len({shape[f] for f in formats})


def require_key(choice: Choice) -> None:
    """BadInput naming the variable when the chosen provider's key is not set."""
    if not choice.key_set:
        names = " and ".join(KEYS[choice.provider])
        raise BadInput(
            names.split(" and ")[0],
            f"is not set; the {choice.stage} stage uses {choice.provider} ({choice.source}). "
            f"Set {names}, or choose another provider",
        )


def provider_estimate(
    brief: Brief, formats: Sequence[Format], settings: ProviderSettings, prices: PriceTable,
    *, writes_script: bool = True,
) -> int:  # fmt: skip
    """Credits the job's provider calls are expected to cost, for its hold (a cache hit costs
    nothing, so the charge can be lower, never higher than the hold). ``writes_script=False``:
    the job renders a script already chosen, so no writer is paid."""
    chosen = choices(brief, settings)
    template = get_template(brief.template)
    photo_scenes = sum(1 for s in template.slots if s.kind == "photo")
    total = Decimal(0)
    script = chosen["script"]
    if writes_script and script.provider != "offline":
        price = prices.price(script.provider, script.model or "*")
        total += price.credits * Decimal(4 * brief.options)  # ~4k tokens an option, with repair
    clips = chosen["clips"]
    if clips.provider != "offline":
        provider = "fal" if clips.provider == "flux" else clips.provider
        model = clips.model or ("fal-ai/flux/schnell" if clips.provider == "flux" else "*")
        price = prices.price(provider, model)
        per_scene = {"second": Decimal(10), "image": Decimal(1), "call": Decimal(1)}.get(
            price.unit, Decimal(1)
        )  # a generated clip is 5 or 10 s: hold for 10
        total += price.credits * per_scene * photo_scenes * _aspects(formats)
    voice = chosen["voice"]
    if brief.voice.enabled and voice.provider != "offline" and brief.voice.file is None:
        price = prices.price(voice.provider, voice.model or "*")
        total += price.credits * Decimal(brief.duration * 20) / 1000  # ~20 characters a second
    if brief.voice.file is not None and chosen["transcriber"].key_set:
        price = prices.price("elevenlabs", "scribe_v2")
        total += price.credits * Decimal(math.ceil(brief.duration / 60))
    return math.ceil(total)
