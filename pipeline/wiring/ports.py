"""The composition root's main function: the ports of one render, built from the settings and a
runtime. Every entry point gets its adapters here and nowhere else."""

from __future__ import annotations

from collections.abc import Callable

from pipeline.brief import Brief
from pipeline.errors import BadInput
from pipeline.palette import KMeansPalette
from pipeline.providers.choices import Choice, choices, require_key
from pipeline.providers.memo import MemoPalette, MemoVoice
from pipeline.providers.runtime import ProviderRuntime, SceneSource
from pipeline.providers.scenes import ProviderClips
from pipeline.render import Ports, RenderRequest
from pipeline.script import OfflineScriptWriter, ScriptWriter
from pipeline.settings import ProviderSettings, Settings
from pipeline.visuals import ClipContext, ClipFactory, ClipGenerator, offline_clips
from pipeline.voice import OfflineVoice, Transcriber, VoiceSynth
from pipeline.wiring.runtime import Runtime

__all__ = ["PortsFactory", "build_ports", "ports_factory"]

# The ports of one render request in one runtime: the composition root's, or a test's fakes.
PortsFactory = Callable[[RenderRequest, Runtime], Ports]


def _writer(choice: Choice, settings: ProviderSettings, runtime: ProviderRuntime) -> ScriptWriter:
    if choice.provider == "offline":
        return OfflineScriptWriter()
    from pipeline.providers.chat import ChatScriptWriter

    return ChatScriptWriter.from_settings(
        settings, provider=choice.provider, model=choice.model, runtime=runtime
    )


def _voice(choice: Choice, settings: ProviderSettings, runtime: ProviderRuntime) -> VoiceSynth:
    if choice.provider == "offline":
        return MemoVoice(OfflineVoice(), runtime.cache)
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


def _provider_clips(
    source: SceneSource, runtime: ProviderRuntime, offline: ClipFactory, fallback: bool
) -> ClipFactory:
    def factory(ctx: ClipContext) -> ClipGenerator:
        return ProviderClips(
            source=source, ctx=ctx, runtime=runtime, offline=offline(ctx), fallback=fallback
        )

    return factory


def build_ports(brief: Brief, settings: Settings, runtime: Runtime) -> Ports:
    """The adapters for one render of ``brief``: the providers the brief and the settings
    choose (offline without keys), checked before any call is made, sharing ``runtime``'s cache,
    meter and task journal. Offline clips (cards, and scenes that fall back) are drawn by the
    runtime's ``offline`` factory: in this process, or fanned out over Modal containers."""
    chosen = choices(brief, settings.providers)
    for stage in ("script", "clips", "voice"):
        require_key(chosen[stage])
    if brief.voice.file is not None and not chosen["transcriber"].key_set:
        raise BadInput(
            "voice.file",
            "a voice-over file needs a transcriber for its captions: set ELEVENLABS_API_KEY",
        )
    providers, provider = settings.providers, runtime.provider
    offline = runtime.offline or offline_clips
    clips = chosen["clips"]
    ports = Ports(
        palette=MemoPalette(KMeansPalette(), provider.cache),
        writer=_writer(chosen["script"], providers, provider),
        voice=_voice(chosen["voice"], providers, provider),
        transcriber=_transcriber(chosen["transcriber"], providers, provider),
        meter=provider.meter,
        clip_factory=offline if clips.provider == "offline" else _provider_clips(
            _scene_source(clips, providers), provider, offline, brief.providers.fallback
        ),
    )  # fmt: skip
    if runtime.composer is not None:
        ports.composer = runtime.composer
    return ports


def ports_factory(settings: Settings) -> PortsFactory:
    """:func:`build_ports` over ``settings``, as the factory services are handed."""

    def build(request: RenderRequest, runtime: Runtime) -> Ports:
        return build_ports(request.brief, settings, runtime)

    return build
