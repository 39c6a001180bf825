"""Which adapter serves each stage, built for one render: from the brief, settings and keys.

Choice per stage: the brief's ``providers:`` section, else ``REELFORGE_<STAGE>_PROVIDER``, else
the first provider in the stage's order whose key is set, else the offline adapter. Naming a
provider whose key is missing is an error naming the variable, raised before anything is spent.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pipeline.brief import Brief
from pipeline.errors import BadInput
from pipeline.formats import Format
from pipeline.providers.cache import ProviderCache
from pipeline.providers.callbacks import StoreInbox
from pipeline.providers.prices import PriceTable, default_prices
from pipeline.providers.runtime import ProviderRuntime, SceneSource
from pipeline.providers.scenes import ProviderClips
from pipeline.providers.settings import ProviderSettings
from pipeline.providers.tasks import TaskJournal
from pipeline.providers.usage import UsageMeter
from pipeline.render import Ports
from pipeline.script import OfflineScriptWriter, ScriptWriter
from pipeline.store import Job, Store
from pipeline.templates.registry import get_template
from pipeline.visuals import ClipContext, ClipFactory, ClipGenerator, offline_clips
from pipeline.voice import EspeakVoice, Transcriber, VoiceSynth

__all__ = [
    "STAGES",
    "USAGE_LOG",
    "Choice",
    "build_ports",
    "choices",
    "job_runtime",
    "local_runtime",
    "provider_estimate",
]

USAGE_LOG = "provider-usage.jsonl"
TASK_JOURNAL = "provider-tasks.json"

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


def _require_key(choice: Choice) -> None:
    if not choice.key_set:
        names = " and ".join(KEYS[choice.provider])
        raise BadInput(
            names.split(" and ")[0],
            f"is not set; the {choice.stage} stage uses {choice.provider} ({choice.source}). "
            f"Set {names}, or choose another provider",
        )


def _writer(choice: Choice, settings: ProviderSettings, runtime: ProviderRuntime) -> ScriptWriter:
    if choice.provider == "offline":
        return OfflineScriptWriter()
    from pipeline.providers.chat import ChatScriptWriter

    return ChatScriptWriter.from_settings(
        settings, provider=choice.provider, model=choice.model, runtime=runtime
    )


def _voice(choice: Choice, settings: ProviderSettings, runtime: ProviderRuntime) -> VoiceSynth:
    if choice.provider == "offline":
        return EspeakVoice()
    from pipeline.providers.elevenlabs import ElevenLabsVoice

    return ElevenLabsVoice.from_settings(settings, model=choice.model, runtime=runtime)


def _transcriber(
    choice: Choice, settings: ProviderSettings, runtime: ProviderRuntime
) -> Transcriber | None:
    if not choice.key_set or choice.provider in ("offline", "none"):
        return None
    from pipeline.providers.elevenlabs import ElevenLabsTranscriber

    return ElevenLabsTranscriber.from_settings(settings, runtime=runtime)


def _scene_source(choice: Choice, settings: ProviderSettings) -> SceneSource:
    if choice.provider == "kling":
        from pipeline.providers.kling import KlingClips

        return KlingClips.from_settings(settings, model=choice.model)
    if choice.provider == "fal":
        from pipeline.providers.fal import FalClips

        return FalClips.from_settings(settings, model=choice.model)
    if choice.provider == "flux":
        from pipeline.providers.fal import FluxStills

        return FluxStills.from_settings(settings, model=choice.model)
    if choice.provider == "pexels":
        from pipeline.providers.pexels import PexelsClips

        return PexelsClips.from_settings(settings)
    if choice.provider == "heygen":
        from pipeline.providers.heygen import HeyGenPresenter

        return HeyGenPresenter.from_settings(settings)
    raise BadInput("providers.clips", f"unknown provider {choice.provider!r}")


def build_ports(
    brief: Brief,
    settings: ProviderSettings,
    runtime: ProviderRuntime,
    *,
    offline: ClipFactory | None = None,
) -> Ports:
    """The adapters for one render of ``brief``; keys are checked here, before any call.

    ``offline`` makes the offline clips (cards, and scenes that fall back): Modal passes one that
    fans out over containers; the default draws them in this process."""
    offline = offline or offline_clips
    chosen = choices(brief, settings)
    for stage in ("script", "clips", "voice"):
        _require_key(chosen[stage])
    if brief.voice.file is not None and not chosen["transcriber"].key_set:
        raise BadInput(
            "voice.file",
            "a voice-over file needs a transcriber for its captions: set ELEVENLABS_API_KEY",
        )
    clips = chosen["clips"]
    ports = Ports(
        writer=_writer(chosen["script"], settings, runtime),
        voice=_voice(chosen["voice"], settings, runtime),
        meter=runtime.meter,
        transcriber=_transcriber(chosen["transcriber"], settings, runtime),
        clip_factory=offline,
    )
    if clips.provider != "offline":
        source = _scene_source(clips, settings)
        fallback = brief.providers.fallback
        make_offline = offline

        def factory(ctx: ClipContext) -> ClipGenerator:
            return ProviderClips(
                source=source, ctx=ctx, runtime=runtime, offline=make_offline(ctx),
                fallback=fallback,
            )  # fmt: skip

        ports.clip_factory = factory
    return ports


def _secrets() -> dict[str, str]:
    from pipeline.api.routes.providers import provider_secrets

    try:
        found = provider_secrets(os.environ)
    except ValueError:
        return {}  # the API reports a malformed secret; the worker just polls
    return {name: secrets[0] for name, secrets in found.items()}


def job_runtime(
    store: Store,
    job: Job,
    work_dir: Path,
    media_root: Path,
    check: Callable[[], None] = lambda: None,
) -> ProviderRuntime:
    """A job's runtime: its spend and task ids in its work folder (kept across attempts), the
    shared cache, callbacks read from the store; ``check`` raises once the job is aborted."""
    settings = ProviderSettings()
    return ProviderRuntime(
        cache=ProviderCache(settings.cache_dir or media_root / ".cache" / "providers"),
        meter=UsageMeter(log=work_dir / USAGE_LOG),
        journal=TaskJournal(work_dir / TASK_JOURNAL),
        inbox=StoreInbox(store, job.id),
        callback_base=settings.callback_base_url,
        job_id=str(job.id),
        callback_secrets=_secrets(),
        check=check,
    )


def local_runtime(settings: ProviderSettings | None = None) -> ProviderRuntime:
    """The command line's runtime: the cache and a task journal in REELFORGE_HOME, so a render
    interrupted after a submit picks the task up when run again; polling only."""
    from pipeline.store.settings import StoreSettings

    settings = settings or ProviderSettings()
    home = StoreSettings().home.expanduser()
    return ProviderRuntime(
        cache=ProviderCache(settings.cache_dir or home / "cache" / "providers"),
        journal=TaskJournal(home / "cache" / TASK_JOURNAL),
    )


def _aspects(formats: Sequence[Format]) -> int:
    """Distinct generation shapes: 4:5 is generated 9:16 and cropped."""
    shape = {Format.V9X16: "9:16", Format.V4X5: "9:16", Format.V1X1: "1:1", Format.V16X9: "16:9"}
    return len({shape[f] for f in formats})


def provider_estimate(
    brief: Brief, formats: Sequence[Format], settings: ProviderSettings,
    prices: PriceTable | None = None,
) -> int:  # fmt: skip
    """Credits the job's provider calls are expected to cost, for its hold (a cache hit costs
    nothing, so the charge can be lower, never higher than the hold)."""
    prices = prices or default_prices()
    chosen = choices(brief, settings)
    template = get_template(brief.template)
    photo_scenes = sum(1 for s in template.slots if s.kind == "photo")
    total = Decimal(0)
    script = chosen["script"]
    if script.provider != "offline":
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
