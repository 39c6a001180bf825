"""The offline render: a brief becomes one finished MP4 per format, posters and a manifest.

Everything is built in a private work folder and a staging folder beside the destination; the
destination appears by a rename only when every output has passed QC, so a failed render leaves
nothing behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from pipeline import __version__
from pipeline.analytics.creative import with_creatives
from pipeline.brief import Brief, brief_hash, load_brief
from pipeline.caption_file import write_caption_file
from pipeline.checkpoints import Checkpoints, checkpoint_key
from pipeline.delivery import poster, replace_dir
from pipeline.errors import BadInput, BriefError
from pipeline.fonts import FontFile, default_caption_font, fonts_dir_for, load_brand_font
from pipeline.formats import FORMATS, Format, FormatSpec
from pipeline.images import load_rgb
from pipeline.manifest import Manifest, OutputEntry
from pipeline.media.ffmpeg import run_ffmpeg
from pipeline.media.graph import Output, build_args
from pipeline.media.loudness import Loudness, measure_loudness
from pipeline.media.probe import probe
from pipeline.media.soundtrack import render_soundtrack
from pipeline.palette import KMeansPalette, PaletteExtractor
from pipeline.prompts import build_prompts
from pipeline.providers.usage import UsageMeter
from pipeline.qc import check_output, enforce
from pipeline.script import OfflineScriptWriter, ScriptWriter
from pipeline.script.model import SceneKind, Script
from pipeline.script.offline import format_price
from pipeline.stages import Reporter, StageClock
from pipeline.templates.registry import get_template
from pipeline.timeline import Encode, StillClip, Timeline, TimelineScene, Transition
from pipeline.visuals import (
    BatchClipGenerator,
    ClipContext,
    ClipFactory,
    ClipGenerator,
    ClipRequest,
    offline_clips,
)
from pipeline.voice import EspeakVoice, Transcriber, VoiceSynth
from pipeline.voiceover import speak_script, transcribe_voiceover, voice_cues, voice_path

__all__ = ["Ports", "RenderOptions", "RenderResult", "render", "render_brief"]

PREVIEW_SHORT_SIDE = 360
PREVIEW_FPS = 15  # a draft checks composition and timing; half the frames, half the work
# Measured by bench/render_bench.py: sequential per-format runs are leaner, and not slower, than
# one FFmpeg process encoding every format at once on two cores.
COMPOSE_MODE = "per_format"


@dataclass(frozen=True)
class RenderOptions:
    formats: tuple[Format, ...] | None = None  # None: the brief's formats
    option: int | None = None  # 1-based script option; None: the first
    preview: bool = False
    compose_mode: str = COMPOSE_MODE
    # A persistent work folder (a job's, across attempts): finished stages found there with
    # matching inputs are reused instead of made again. None: a private folder, removed after.
    work_dir: Path | None = None


@dataclass
class Ports:
    """The outside world, one adapter per port; the defaults need no network and no keys."""

    palette: PaletteExtractor = field(default_factory=KMeansPalette)
    writer: ScriptWriter = field(default_factory=OfflineScriptWriter)
    voice: VoiceSynth = field(default_factory=EspeakVoice)
    transcriber: Transcriber | None = None  # times the captions of a brief's own voice.file
    clips: ClipGenerator | None = None  # a ready adapter; else made by clip_factory
    clip_factory: ClipFactory = offline_clips  # from the render's photos and brand
    meter: UsageMeter | None = None  # what the provider adapters above spent, for the manifest


@dataclass(frozen=True)
class RenderResult:
    out_dir: Path
    manifest: Manifest


def _preview_spec(spec: FormatSpec) -> FormatSpec:
    short = min(spec.width, spec.height)
    width = round(spec.width * PREVIEW_SHORT_SIDE / short / 2) * 2
    return spec.scaled(width)


def _load_inputs(brief: Brief) -> tuple[list[Image.Image], Image.Image | None, FontFile]:
    photos = [load_rgb(p, field=f"product.photos[{i}]") for i, p in enumerate(brief.product.photos)]
    logo = None
    if brief.brand.logo is not None:
        logo = load_rgb(brief.brand.logo, field="brand.logo")
        with contextlib.suppress(OSError):
            raw = Image.open(brief.brand.logo)
            if raw.mode in ("RGBA", "LA", "P") and raw.size[0] * raw.size[1] <= 40_000_000:
                logo = raw.convert("RGBA")  # keep the logo's transparency on the end card
    font = load_brand_font(brief.brand.font) if brief.brand.font else default_caption_font()
    if brief.music is not None:
        import av

        try:
            with av.open(str(brief.music)) as container:
                if not container.streams.audio:
                    raise BriefError("music", f"file has no audio stream: {brief.music}")
        except av.FFmpegError as exc:
            raise BriefError("music", f"not a readable audio file ({exc}): {brief.music}") from None
    return photos, logo, font


def _scene_starts(script: Script) -> list[float]:
    starts, t = [], 0.0
    for scene in script.scenes:
        starts.append(round(t, 4))
        t += scene.duration
    return starts


def render_brief(
    brief: Brief,
    out_root: Path,
    *,
    options: RenderOptions = RenderOptions(),
    ports: Ports | None = None,
    reporter: Reporter | None = None,
    brief_data: dict[str, object] | None = None,
) -> RenderResult:
    ports = ports or Ports()
    clock = StageClock(reporter)
    formats = options.formats or brief.formats
    specs = [FORMATS[f] for f in formats]
    if options.preview:
        specs = [_preview_spec(s) for s in specs]
    encode = Encode(preset="superfast", crf=28) if options.preview else Encode()

    with clock.stage("brief"):
        template = get_template(brief.template)
        photos, logo, font = _load_inputs(brief)
        digest = brief_hash(brief)

    with clock.stage("palette"):
        palette = ports.palette.extract(
            photos, locale=brief.brand.locale, override=brief.brand.palette
        )

    with clock.stage("script"):
        scripts = ports.writer.write(brief, template, palette, n=brief.options)
        chosen = options.option or 1
        if not 1 <= chosen <= len(scripts):
            raise BadInput(
                "--option",
                f"must be between 1 and {len(scripts)} (the brief asks for {brief.options} options)",
            )
        script = scripts[chosen - 1]
        starts = _scene_starts(script)

    with clock.stage("prompts"):
        prompts = build_prompts(script, template=template, palette=palette, brief=brief)

    try:
        out_root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{brief.product.sku}.", dir=out_root))
    except FileExistsError:
        raise BadInput("--out", f"{out_root} exists and is not a folder") from None
    except OSError as exc:
        raise BadInput("--out", f"cannot write to {out_root}: {exc.strerror}") from None
    if options.work_dir is not None:
        options.work_dir.mkdir(parents=True, exist_ok=True)
        work, checkpoints = options.work_dir, Checkpoints(options.work_dir)
    else:
        work, checkpoints = Path(tempfile.mkdtemp(prefix="reelforge-")), None
    try:
        with clock.stage("voice"):
            if brief.voice.file is not None:
                voice_lines = transcribe_voiceover(
                    ports.transcriber, script, starts, brief, work, checkpoints=checkpoints
                )
            else:
                voice_lines = speak_script(
                    ports.voice, script, starts, brief, work,
                    on_scene=lambda fraction: clock.reporter.advanced("voice", fraction),
                    checkpoints=checkpoints,
                )  # fmt: skip

        with clock.stage("soundtrack"):
            cues = voice_cues(brief, voice_lines, work)
            audio = work / "soundtrack.m4a"
            track_key = checkpoint_key(
                "soundtrack",
                {"starts": [c.start for c in cues], "duration": script.duration},
                [c.path for c in cues] + ([brief.music] if brief.music else []),
            )
            saved = checkpoints.load(audio, track_key, label="soundtrack") if checkpoints else None
            if saved is not None:
                track_loudness = Loudness.model_validate(saved)
            else:
                track_loudness = render_soundtrack(cues, brief.music, script.duration, audio)
                if checkpoints:
                    checkpoints.save(audio, track_key, track_loudness.model_dump(mode="json"))
            audible = bool(cues) or brief.music is not None

        with clock.stage("captions"):
            fonts_dir = fonts_dir_for([font], work / "fonts")
            subtitles: dict[str, Path] = {}
            for spec in specs:
                path = work / f"captions-{spec.format.value}.ass"
                write_caption_file(path, spec, template, palette, font, voice_lines, script, starts)
                subtitles[spec.format.value] = path

        with clock.stage("visuals"):
            price = format_price(brief.product.price, brief.product.currency, brief.brand.language)
            clips = ports.clips or ports.clip_factory(
                ClipContext(
                    photos=photos, palette=palette, font_path=font.path,
                    product_name=brief.product.name, price=price, logo=logo,
                    photo_paths=brief.product.photos, sku=brief.product.sku,
                )
            )  # fmt: skip
            spoken = {line.scene: line.text for line in voice_lines}
            requests = [
                ClipRequest(
                    scene_index=scene.index,
                    kind=scene.kind.value,
                    photo=scene.photo,
                    text=scene.on_screen_text,
                    prompt=prompt.prompt,
                    duration=scene.duration + template.pacing.transition_seconds,
                    spec=spec,
                    motion=template.pacing.motion,
                    spoken=spoken.get(scene.index, ""),
                    voice=voice_path(work, scene.index) if scene.index in spoken else None,
                    seed=_scene_seed(brief.product.sku, chosen, scene.index, prompt.prompt),
                )
                for spec in specs
                for scene, prompt in zip(script.scenes, prompts, strict=True)
            ]
            if isinstance(clips, BatchClipGenerator):
                made = clips.generate_many(requests, workdir=work)
            else:
                with ThreadPoolExecutor(max_workers=2) as pool:
                    made = list(pool.map(lambda r: clips.generate(r, workdir=work), requests))

        timelines: list[Output] = []
        per_scene = len(script.scenes)
        for n, spec in enumerate(specs):
            scenes = []
            for i, (scene, start) in enumerate(zip(script.scenes, starts, strict=True)):
                last = i == per_scene - 1
                scenes.append(
                    TimelineScene(
                        index=i,
                        start=start,
                        beat=scene.duration,
                        clip=made[n * per_scene + i],
                        transition=None
                        if last
                        else Transition(
                            name=template.pacing.transition,
                            duration=template.pacing.transition_seconds,
                        ),
                    )
                )
            timeline = Timeline(
                spec=spec,
                fps=PREVIEW_FPS if options.preview else 30,
                duration=script.duration,
                scenes=tuple(scenes),
                subtitles=subtitles[spec.format.value],
                fonts_dir=fonts_dir,
                audio=audio,
                encode=encode,
            )
            composed = (
                work / f"composed-{spec.format.value}-{spec.width}.mp4" if checkpoints else None
            )
            timelines.append(Output(timeline, composed or staging / f"{spec.format.value}.mp4"))

        with clock.stage("compose"):
            pending, keys = list(timelines), {}
            if checkpoints is not None:
                keys = {out.path: _compose_key(out, font) for out in timelines}
                pending = [
                    out for out in timelines
                    if checkpoints.load(out.path, keys[out.path], label=f"compose:{out.timeline.spec.format.value}") is None
                ]  # fmt: skip
            total = script.duration * max(1, len(pending))
            if options.compose_mode == "single" and pending:
                run_ffmpeg(
                    build_args(pending),
                    stage="compose",
                    total_seconds=script.duration,
                    on_progress=lambda t: clock.reporter.advanced(
                        "compose", min(1.0, t / script.duration)
                    ),
                )
            else:
                for n, out in enumerate(pending):
                    run_ffmpeg(
                        build_args([out]),
                        stage="compose",
                        on_progress=_progress_from(clock, n * script.duration, total),
                    )
            if checkpoints is not None:
                for out in pending:
                    checkpoints.save(out.path, keys[out.path])
                published = []
                for out in timelines:
                    target = staging / f"{out.timeline.spec.format.value}.mp4"
                    shutil.copyfile(out.path, target)
                    published.append(Output(out.timeline, target))
                timelines = published

        entries: list[OutputEntry] = []
        with clock.stage("qc"):
            for out in timelines:
                tl = out.timeline
                p = probe(out.path)
                loud: Loudness | None = measure_loudness(out.path, stage="qc") if audible else None
                report = check_output(
                    p,
                    spec=tl.spec,
                    fps=tl.fps,
                    duration=tl.frames / tl.fps,
                    loudness=loud,
                    audible=audible,
                    draft=options.preview,
                )
                enforce(report)
                poster_path = out.path.with_suffix(".png")
                entries.append(
                    OutputEntry(
                        format=tl.spec.format.value,
                        path=out.path.name,
                        poster=poster_path.name,
                        width=p.width,
                        height=p.height,
                        duration=round(p.duration, 3),
                        size_bytes=p.size_bytes,
                        loudness_lufs=round(loud.integrated, 2) if loud else None,
                        true_peak_dbtp=round(loud.true_peak, 2) if loud else None,
                        qc=report,
                    )
                )

        with clock.stage("deliver"):
            hero = next((s for s in script.scenes if s.kind == SceneKind.PHOTO), script.scenes[0])
            at = starts[hero.index] + hero.duration * 0.5
            for out in timelines:
                poster(out.path, at, out.path.with_suffix(".png"))
            manifest = Manifest(
                reused=tuple(checkpoints.reused) if checkpoints else (),
                provider_calls=ports.meter.usages if ports.meter else (),
                provider_credits=ports.meter.credits if ports.meter else 0,
                fallbacks=tuple(getattr(clips, "fallbacks", ())),
                credits=tuple(getattr(clips, "credits", ())),
                reelforge=__version__,
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                brief_hash=digest,
                brief=brief_data if brief_data is not None else brief.model_dump(mode="json"),
                sku=brief.product.sku,
                template=template.name,
                preview=options.preview,
                palette=palette,
                scripts=scripts,
                chosen_option=chosen,
                prompts=prompts,
                voice=tuple(voice_lines),
                soundtrack_lufs=round(track_loudness.integrated, 2) if audible else None,
                outputs=tuple(entries),
                compose_mode=options.compose_mode,
                stages=dict(clock.seconds),
            )
            manifest = with_creatives(manifest, caption_style=template.caption_style.name)
            (staging / "manifest.json").write_text(
                manifest.model_dump_json(indent=2), encoding="utf-8"
            )
            final = out_root / brief.product.sku
            replace_dir(staging, final)
        manifest = manifest.model_copy(update={"stages": dict(clock.seconds)})
        (final / "manifest.json").write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        return RenderResult(out_dir=final, manifest=manifest)
    finally:
        if checkpoints is None:
            shutil.rmtree(work, ignore_errors=True)
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _scene_seed(sku: str, option: int, scene: int, prompt: str) -> int:
    """A seed fixed by what the scene asks for (SKU, option, scene, prompt) and nothing else in
    the brief: a changed format list or soundtrack asks the providers the same question again,
    so their cached answers are reused instead of paid for twice."""
    key = f"{sku}:{option}:{scene}:{prompt}"
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)


def _compose_key(out: Output, font: FontFile) -> str:
    """Everything a composed output is made from: its arguments and the bytes of its inputs."""
    tl = out.timeline
    args = build_args([out])
    if tl.fonts_dir is not None:  # a fresh folder each run; the font's bytes stand for it
        args = [a.replace(str(tl.fonts_dir), "<fonts>") for a in args]
    files = [s.clip.image if isinstance(s.clip, StillClip) else s.clip.path for s in tl.scenes]
    files += [tl.audio, font.path] + ([tl.subtitles] if tl.subtitles else [])
    return checkpoint_key("compose", args, files)


def _progress_from(clock: StageClock, done: float, total: float) -> Callable[[float], None]:
    def advance(seconds: float) -> None:
        clock.reporter.advanced("compose", min(1.0, (done + seconds) / total))

    return advance


def render(
    brief: Path | Brief,
    out_root: Path,
    *,
    options: RenderOptions = RenderOptions(),
    ports: Ports | None = None,
    reporter: Reporter | None = None,
) -> RenderResult:
    """Render a brief (a file, or one already loaded); if ``out_root`` did not exist and the
    render fails, it is removed."""
    created = not out_root.exists()
    try:
        loaded = brief if isinstance(brief, Brief) else load_brief(brief)
        return render_brief(loaded, out_root, options=options, ports=ports, reporter=reporter)
    except BaseException:
        if created and out_root.exists() and not any(out_root.iterdir()):
            out_root.rmdir()
        raise
