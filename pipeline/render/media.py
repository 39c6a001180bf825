"""The stages that make media for a plan: voice, soundtrack, captions and visuals."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pipeline.caption_file import write_caption_file
from pipeline.checkpoints import checkpoint_key
from pipeline.fonts import fonts_dir_for
from pipeline.manifest import VoiceLine
from pipeline.media.loudness import Loudness
from pipeline.media.soundtrack import render_soundtrack
from pipeline.render.intake import admit_clips
from pipeline.render.plan import Plan
from pipeline.render.ports import Ports
from pipeline.render.workspace import Workspace
from pipeline.script.offline import format_price
from pipeline.stages import StageClock
from pipeline.timeline import StillClip, VideoClip
from pipeline.visuals import (
    BatchClipGenerator,
    ClipContext,
    ClipGenerator,
    ClipRequest,
)
from pipeline.voiceover import speak_script, transcribe_voiceover, voice_cues, voice_path

__all__ = ["Captions", "Soundtrack", "Visuals", "captions", "soundtrack", "visuals", "voice"]

Clip = StillClip | VideoClip


@dataclass(frozen=True)
class Soundtrack:
    path: Path
    loudness: Loudness
    audible: bool  # a voice or music is in it (a silent ad skips the loudness checks)


@dataclass(frozen=True)
class Captions:
    files: dict[str, Path]  # per format value, an .ass file
    fonts_dir: Path


@dataclass(frozen=True)
class Visuals:
    clips: tuple[Clip, ...]  # format-major: every scene of the first format, then the next
    generator: ClipGenerator  # what made them (its fallbacks and credits go in the manifest)


def voice(plan: Plan, ports: Ports, space: Workspace, clock: StageClock) -> tuple[VoiceLine, ...]:
    """The voice lines: the brief's own voice-over transcribed, or each scene's line spoken."""
    brief, script = plan.brief, plan.script
    if brief.voice.file is not None:
        return transcribe_voiceover(
            ports.transcriber, script, plan.starts, brief, space.work,
            checkpoints=space.checkpoints,
        )  # fmt: skip
    return speak_script(
        ports.voice, script, plan.starts, brief, space.work,
        on_scene=lambda fraction: clock.reporter.advanced("voice", fraction),
        checkpoints=space.checkpoints,
    )  # fmt: skip


def soundtrack(plan: Plan, lines: tuple[VoiceLine, ...], space: Workspace) -> Soundtrack:
    """The finished, loudness-normalised soundtrack: voice cues over the ducked music."""
    brief, duration = plan.brief, plan.script.duration
    cues = voice_cues(brief, lines, space.work)
    audio = space.work / "soundtrack.m4a"
    key = checkpoint_key(
        "soundtrack",
        {"starts": [c.start for c in cues], "duration": duration},
        [c.path for c in cues] + ([brief.music] if brief.music else []),
    )
    saved = space.checkpoints.reuse(
        audio, key, label="soundtrack",
        make=lambda: render_soundtrack(cues, brief.music, duration, audio).model_dump(mode="json"),
    )  # fmt: skip
    audible = bool(cues) or brief.music is not None
    return Soundtrack(audio, Loudness.model_validate(saved), audible)


def captions(plan: Plan, lines: tuple[VoiceLine, ...], space: Workspace) -> Captions:
    """One caption file per format: karaoke lines from the voice, headlines from the script."""
    font = plan.inputs.font
    fonts_dir = fonts_dir_for([font], space.work / "fonts")
    files: dict[str, Path] = {}
    for spec in plan.specs:
        path = space.work / f"captions-{spec.format.value}.ass"
        write_caption_file(
            path, spec, plan.template, plan.palette, font, lines, plan.script, plan.starts
        )
        files[spec.format.value] = path
    return Captions(files, fonts_dir)


def scene_seed(sku: str, option: int, scene: int, prompt: str) -> int:
    """A seed fixed by what the scene asks for (SKU, option, scene, prompt) and nothing else in
    the brief: a changed format list or soundtrack asks the providers the same question again,
    so their cached answers are reused instead of paid for twice."""
    key = f"{sku}:{option}:{scene}:{prompt}"
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)


def clip_requests(plan: Plan, lines: tuple[VoiceLine, ...], work: Path) -> list[ClipRequest]:
    """One request per scene per format, format-major."""
    spoken = {line.scene: line.text for line in lines}
    pacing = plan.template.pacing
    return [
        ClipRequest(
            scene_index=scene.index, kind=scene.kind.value, photo=scene.photo,
            text=scene.on_screen_text, prompt=prompt.prompt,
            duration=scene.duration + pacing.transition_seconds, spec=spec, motion=pacing.motion,
            spoken=spoken.get(scene.index, ""),
            voice=voice_path(work, scene.index) if scene.index in spoken else None,
            seed=scene_seed(plan.brief.product.sku, plan.option, scene.index, prompt.prompt),
        )
        for spec in plan.specs
        for scene, prompt in zip(plan.script.scenes, plan.prompts, strict=True)
    ]  # fmt: skip


def clip_context(plan: Plan) -> ClipContext:
    brief, inputs = plan.brief, plan.inputs
    return ClipContext(
        photos=inputs.photos, palette=plan.palette, font_path=inputs.font.path,
        product_name=brief.product.name,
        price=format_price(brief.product.price, brief.product.currency, brief.brand.language),
        logo=inputs.logo, photo_paths=brief.product.photos, sku=brief.product.sku,
        logo_path=brief.brand.logo,
    )  # fmt: skip


def visuals(plan: Plan, ports: Ports, lines: tuple[VoiceLine, ...], space: Workspace) -> Visuals:
    """Every scene's picture in every format, from the clip port (fanned out when it can); its
    video clips admitted into the work folder (``pipeline.render.intake``)."""
    generator = ports.clips or ports.clip_factory(clip_context(plan))
    requests = clip_requests(plan, lines, space.work)
    if isinstance(generator, BatchClipGenerator):
        made = generator.generate_many(requests, workdir=space.work)
    else:
        with ThreadPoolExecutor(max_workers=2) as pool:
            made = list(pool.map(lambda r: generator.generate(r, workdir=space.work), requests))
    return Visuals(admit_clips(made, space.work), generator)
