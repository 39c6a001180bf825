"""Composition and QC: timelines become MP4s through one FFmpeg graph each, checked against the
platforms' specs before anything is delivered."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pipeline.checkpoints import Checkpoints, checkpoint_key
from pipeline.errors import BadInput
from pipeline.fonts import FontFile
from pipeline.manifest import OutputEntry
from pipeline.media.ffmpeg import run_ffmpeg
from pipeline.media.graph import Output, build_args
from pipeline.media.loudness import Loudness, LoudnessOfStreams
from pipeline.media.probe import probe
from pipeline.qc import check_output, enforce
from pipeline.render.intake import admit_timeline
from pipeline.render.ports import Composer
from pipeline.render.timelines import load_timeline_file, timeline_files, timeline_hash
from pipeline.stages import StageClock
from pipeline.timeline import Timeline

__all__ = ["compose", "compose_file", "quality_check"]


def _compose_key(out: Output, font: FontFile | None) -> str:
    """Everything a composed output is made from: its arguments and the bytes of its inputs."""
    tl = out.timeline
    args = build_args([out])
    if tl.fonts_dir is not None:  # a fresh folder each run; the fonts' bytes stand for it
        args = [a.replace(str(tl.fonts_dir), "<fonts>") for a in args]
    extra = [font.path] if font is not None else []
    return checkpoint_key("compose", args, [*timeline_files(tl), *extra])


def compose(
    timelines: Sequence[Timeline],
    *,
    work: Path,
    staging: Path,
    checkpoints: Checkpoints,
    clock: StageClock,
    composer: Composer,
    font: FontFile | None = None,
) -> list[Output]:
    """Each timeline composed into ``staging/<format>.mp4`` by ``composer``. With kept
    checkpoints, outputs are composed in the work folder first, and one made from the same
    inputs by an earlier attempt is reused."""
    keep = checkpoints.keep
    outputs = [
        Output(tl, (work / f"composed-{tl.spec.format.value}-{tl.spec.width}.mp4") if keep
               else staging / f"{tl.spec.format.value}.mp4")
        for tl in timelines
    ]  # fmt: skip
    keys = {out.path: _compose_key(out, font) for out in outputs} if keep else {}
    pending = [
        out for out in outputs
        if not keep or checkpoints.load(
            out.path, keys[out.path], label=f"compose:{out.timeline.spec.format.value}"
        ) is None
    ]  # fmt: skip
    if pending:
        composer.compose(pending, lambda f: clock.reporter.advanced("compose", f))
    for out in pending if keep else ():
        checkpoints.save(out.path, keys[out.path])
    return _published(outputs, staging) if keep else outputs


def _published(outputs: Sequence[Output], staging: Path) -> list[Output]:
    published = []
    for out in outputs:
        target = staging / f"{out.timeline.spec.format.value}.mp4"
        shutil.copyfile(out.path, target)
        published.append(Output(out.timeline, target))
    return published


def quality_check(
    outputs: Sequence[Output], *, audible: bool, draft: bool, enforced: bool = True
) -> list[OutputEntry]:
    """Probes every output and checks it against its format's spec (QCError on a failure when
    ``enforced``); one manifest entry per output."""
    entries = []
    sound = LoudnessOfStreams(stage="qc")
    for out in outputs:
        tl = out.timeline
        p = probe(out.path)
        loud: Loudness | None = sound.of(out.path) if audible else None
        report = check_output(
            p, spec=tl.spec, fps=tl.fps, duration=tl.frames / tl.fps, loudness=loud,
            audible=audible, draft=draft,
        )  # fmt: skip
        if enforced:
            enforce(report)
        entries.append(
            OutputEntry(
                format=tl.spec.format.value, path=out.path.name,
                poster=out.path.with_suffix(".png").name, width=p.width, height=p.height,
                duration=round(p.duration, 3), size_bytes=p.size_bytes,
                loudness_lufs=round(loud.integrated, 2) if loud else None,
                true_peak_dbtp=round(loud.true_peak, 2) if loud else None,
                qc=report, timeline_hash=timeline_hash(tl),
            )
        )  # fmt: skip
    return entries


def compose_file(path: Path, out_dir: Path) -> list[OutputEntry]:
    """``reelforge compose``: the timelines saved in ``path`` composed into
    ``out_dir/<format>.mp4`` and checked. Outputs that fail QC are still written (this is a
    debugging tool: the report says what failed); nothing appears until every output is made.
    Every file the timelines name is admitted into a private folder first, and composed from
    there (``pipeline.render.intake``)."""
    private = Path(tempfile.mkdtemp(prefix="reelforge-compose-"))
    try:
        return _compose_admitted(load_timeline_file(path), private, out_dir)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _compose_admitted(
    loaded: Sequence[Timeline], private: Path, out_dir: Path
) -> list[OutputEntry]:
    timelines = [
        admit_timeline(t, private / "inputs", where=f"timelines[{n}]") for n, t in enumerate(loaded)
    ]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput("--out", f"cannot write to {out_dir}: {exc.strerror}") from None
    staging = Path(tempfile.mkdtemp(prefix=".compose.", dir=out_dir))
    try:
        outputs = [Output(tl, staging / f"{tl.spec.format.value}.mp4") for tl in timelines]
        for out in outputs:
            run_ffmpeg(build_args([out]), stage="compose")
        entries = quality_check(outputs, audible=True, draft=timelines[0].fps < 30, enforced=False)
        for out in outputs:
            final = out_dir / out.path.name
            out.path.replace(final)
        return entries
    finally:
        shutil.rmtree(staging, ignore_errors=True)
