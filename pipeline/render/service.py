"""The render service: a RenderRequest and ports in, one MP4 per format, posters and a manifest
out. The command line, the workers, Modal and the API all render through :func:`render`.

Everything is built in a work folder and a staging folder beside the destination; the destination
appears by a rename only when every output has passed QC, so a failed render leaves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline import __version__
from pipeline.delivery import poster, replace_dir
from pipeline.manifest import Manifest, OutputEntry, VoiceLine
from pipeline.media.graph import Output
from pipeline.render import media
from pipeline.render.compose import compose, quality_check
from pipeline.render.creatives import with_creatives
from pipeline.render.intake import admit_brief
from pipeline.render.plan import Plan, plan_render
from pipeline.render.ports import Ports
from pipeline.render.request import RenderRequest
from pipeline.render.timelines import build_timelines, export_timelines
from pipeline.render.workspace import Workspace, workspace
from pipeline.script.model import SceneKind
from pipeline.stages import Reporter, StageClock
from pipeline.timeline import Timeline

__all__ = ["RenderResult", "render"]


@dataclass(frozen=True)
class RenderResult:
    out_dir: Path
    manifest: Manifest


@dataclass(frozen=True)
class _Made:
    """What the media stages made, for the manifest."""

    lines: tuple[VoiceLine, ...]
    soundtrack: media.Soundtrack
    visuals: media.Visuals


def render(
    request: RenderRequest,
    *,
    ports: Ports,
    out_root: Path,
    reporter: Reporter | None = None,
) -> RenderResult:
    """Renders ``request`` into ``out_root/<sku>/``. If ``out_root`` did not exist and the render
    fails, it is removed."""
    created = not out_root.exists()
    try:
        return _render(request, ports, out_root, StageClock(reporter))
    except BaseException:
        if created and out_root.exists() and not any(out_root.iterdir()):
            out_root.rmdir()
        raise


def _render(
    request: RenderRequest, ports: Ports, out_root: Path, clock: StageClock
) -> RenderResult:
    with workspace(out_root, request.brief.product.sku, request.work_dir) as space:
        plan = plan_render(_admitted(request, space), ports, clock, shown=request.brief)
        made, timelines = _make_media(plan, ports, space, clock)
        with clock.stage("compose"):
            outputs = compose(
                timelines, work=space.work, staging=space.staging,
                checkpoints=space.checkpoints, clock=clock, composer=ports.composer,
                font=plan.inputs.font,
            )  # fmt: skip
            if request.export_timeline is not None:
                export_timelines(timelines, request.export_timeline)
        with clock.stage("qc"):
            entries = quality_check(outputs, audible=made.soundtrack.audible, draft=request.preview)
        with clock.stage("deliver"):
            manifest = _manifest(plan, ports, made, entries, clock, space)
            final = _deliver(plan, outputs, manifest, space, out_root)
    manifest = manifest.model_copy(update={"stages": dict(clock.seconds)})
    (final / "manifest.json").write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
    return RenderResult(out_dir=final, manifest=manifest)


def _admitted(request: RenderRequest, space: Workspace) -> RenderRequest:
    """The request whose brief names admitted copies of its music and voice-over (in the work
    folder, checked as audio); the manifest keeps the brief as it was given."""
    record = request.brief_record or request.brief.model_dump(mode="json")
    brief = admit_brief(request.brief, space.work)
    return request.model_copy(update={"brief": brief, "brief_record": record})


def _make_media(
    plan: Plan, ports: Ports, space: Workspace, clock: StageClock
) -> tuple[_Made, list[Timeline]]:
    with clock.stage("voice"):
        lines = media.voice(plan, ports, space, clock)
    with clock.stage("soundtrack"):
        track = media.soundtrack(plan, lines, space)
    with clock.stage("captions"):
        captions = media.captions(plan, lines, space)
    with clock.stage("visuals"):
        visuals = media.visuals(plan, ports, lines, space)
    timelines = build_timelines(
        specs=plan.specs, template=plan.template,
        beats=[s.duration for s in plan.script.scenes], starts=plan.starts,
        clips=visuals.clips, subtitles=captions.files, fonts_dir=captions.fonts_dir,
        audio=track.path, fps=plan.fps, duration=plan.script.duration, encode=plan.encode,
    )  # fmt: skip
    return _Made(lines, track, visuals), timelines


def _manifest(
    plan: Plan,
    ports: Ports,
    made: _Made,
    entries: list[OutputEntry],
    clock: StageClock,
    space: Workspace,
) -> Manifest:
    request, generator = plan.request, made.visuals.generator
    record = request.brief_record
    manifest = Manifest(
        reused=tuple(space.checkpoints.reused),
        provider_calls=ports.meter.usages if ports.meter else (),
        provider_credits=ports.meter.credits if ports.meter else 0,
        fallbacks=tuple(getattr(generator, "fallbacks", ())),
        credits=tuple(getattr(generator, "credits", ())),
        reelforge=__version__,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        brief_hash=plan.brief_hash,
        brief=record if record is not None else plan.brief.model_dump(mode="json"),
        sku=plan.brief.product.sku, template=plan.template.name, preview=request.preview,
        palette=plan.palette, script=plan.script, script_hash=plan.script_hash,
        scripts=plan.scripts, chosen_option=plan.option, prompts=plan.prompts,
        voice=made.lines, outputs=tuple(entries), compose_mode=ports.composer.mode,
        stages=dict(clock.seconds),
        soundtrack_lufs=(
            round(made.soundtrack.loudness.integrated, 2) if made.soundtrack.audible else None
        ),
    )  # fmt: skip
    return with_creatives(manifest, caption_style=plan.template.caption_style.name)


def _deliver(
    plan: Plan, outputs: list[Output], manifest: Manifest, space: Workspace, out_root: Path
) -> Path:
    """Posters from the hero scene, the manifest, then the staging folder renamed into place."""
    script = plan.script
    hero = next((s for s in script.scenes if s.kind == SceneKind.PHOTO), script.scenes[0])
    at = plan.starts[hero.index] + hero.duration * 0.5
    for out in outputs:
        poster(out.path, at, out.path.with_suffix(".png"))
    (space.staging / "manifest.json").write_text(
        manifest.model_dump_json(indent=2), encoding="utf-8"
    )
    final = out_root / plan.brief.product.sku
    replace_dir(space.staging, final)
    return final
