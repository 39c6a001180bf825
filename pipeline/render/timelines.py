"""Timelines from a plan and its media (a pure function), their content hash, and timeline files
that can be saved beside their media and composed again (``reelforge compose``)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.errors import BadInput
from pipeline.formats import FormatSpec
from pipeline.templates.model import Template
from pipeline.timeline import (
    Encode,
    StillClip,
    Timeline,
    TimelineFile,
    TimelineScene,
    Transition,
    VideoClip,
)

__all__ = [
    "build_timelines",
    "export_timelines",
    "load_timeline_file",
    "timeline_files",
    "timeline_hash",
]

Clip = StillClip | VideoClip


def build_timelines(
    *,
    specs: Sequence[FormatSpec],
    template: Template,
    beats: Sequence[float],
    starts: Sequence[float],
    clips: Sequence[Clip],
    subtitles: dict[str, Path],
    fonts_dir: Path,
    audio: Path,
    fps: int,
    duration: float,
    encode: Encode,
) -> list[Timeline]:
    """One timeline per format: its scenes (``clips`` is format-major), transitions between them,
    the captions, fonts and soundtrack. Reads nothing and writes nothing."""
    per_format = len(beats)
    pacing = template.pacing
    timelines = []
    for n, spec in enumerate(specs):
        scenes = tuple(
            TimelineScene(
                index=i, start=start, beat=beat, clip=clips[n * per_format + i],
                transition=None if i == per_format - 1 else Transition(
                    name=pacing.transition, duration=pacing.transition_seconds
                ),
            )
            for i, (beat, start) in enumerate(zip(beats, starts, strict=True))
        )  # fmt: skip
        timelines.append(
            Timeline(
                spec=spec, fps=fps, duration=duration, scenes=scenes,
                subtitles=subtitles[spec.format.value], fonts_dir=fonts_dir, audio=audio,
                encode=encode,
            )
        )  # fmt: skip
    return timelines


def timeline_files(timeline: Timeline) -> list[Path]:
    """Every file a timeline names, the fonts folder as the files in it, in a stable order."""
    files: list[Path] = []
    for path in _named(timeline):
        files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return files


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def timeline_hash(timeline: Timeline) -> str:
    """What was composed, wherever it ran: the timeline with each file it names replaced by the
    SHA-256 of its bytes, hashed. Two renders with the same hash made the same picture and sound
    from the same media, whatever their work folders were called."""
    names = {str(p): _digest(p) for p in timeline_files(timeline) if p.is_file()}
    data = timeline.model_dump(mode="json")

    def swap(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return names.get(value, value) if isinstance(value, str) else value

    data = swap(data)
    if timeline.fonts_dir is not None:  # a folder: the hashes of the fonts in it
        fonts = timeline.fonts_dir.rglob("*")
        data["fonts_dir"] = sorted(_digest(p) for p in fonts if p.is_file())
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def export_timelines(timelines: Sequence[Timeline], target: Path) -> Path:
    """Writes ``target`` (JSON) and copies every file the timelines name into the folder
    ``<target stem>-media`` beside it; paths in the file are relative to its folder, so the pair
    can be moved, edited and composed again. Written to temporary names, then renamed."""
    folder = target.parent.resolve()
    media = folder / f"{target.stem}-media"
    staging = folder / f".{media.name}.part"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    moved: dict[str, str] = {}
    for n, path in enumerate(dict.fromkeys(p for t in timelines for p in _named(t))):
        name = f"{n:03d}-{path.name}"
        if path.is_dir():
            shutil.copytree(path, staging / name)
        else:
            shutil.copyfile(path, staging / name)
        moved[str(path)] = f"{media.name}/{name}"
    relative = [_repath(t, moved) for t in timelines]
    text = TimelineFile(timelines=tuple(relative)).model_dump_json(indent=2)
    part = target.with_name(f".{target.name}.part")
    part.write_text(text, encoding="utf-8")
    shutil.rmtree(media, ignore_errors=True)
    staging.rename(media)
    os.replace(part, target)
    return target


def _named(timeline: Timeline) -> list[Path]:
    files = [
        s.clip.image if isinstance(s.clip, StillClip) else s.clip.path for s in timeline.scenes
    ]
    files.append(timeline.audio)
    files += [p for p in (timeline.subtitles, timeline.fonts_dir) if p is not None]
    return files


def _repath(timeline: Timeline, moved: dict[str, str]) -> Timeline:
    data = timeline.model_dump(mode="json")
    for scene in data["scenes"]:
        key = "image" if scene["clip"]["kind"] == "still" else "path"
        scene["clip"][key] = moved[scene["clip"][key]]
    for key in ("audio", "subtitles", "fonts_dir"):
        if data.get(key) is not None:
            data[key] = moved[data[key]]
    return Timeline.model_validate(data)


def load_timeline_file(path: Path) -> tuple[Timeline, ...]:
    """The timelines of a file written by :func:`export_timelines` (or by hand), with relative
    paths resolved against its folder; BadInput names the file and what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(str(path), f"cannot read the timeline file: {exc.strerror}") from None
    try:
        loaded = TimelineFile.model_validate_json(text)
    except ValueError as exc:
        first = str(exc).splitlines()
        raise BadInput(str(path), f"not a timeline file: {' '.join(first[:3])}") from None
    base = path.parent.resolve()
    timelines = tuple(_resolved(t, base) for t in loaded.timelines)
    for timeline in timelines:
        for file in _named(timeline):
            if not file.exists():
                raise BadInput(str(path), f"names a file that does not exist: {file}")
    return timelines


def _resolved(timeline: Timeline, base: Path) -> Timeline:
    data = timeline.model_dump(mode="json")

    def full(value: str) -> str:
        return value if Path(value).is_absolute() else str((base / value).resolve())

    for scene in data["scenes"]:
        key = "image" if scene["clip"]["kind"] == "still" else "path"
        scene["clip"][key] = full(scene["clip"][key])
    for key in ("audio", "subtitles", "fonts_dir"):
        if data.get(key) is not None:
            data[key] = full(data[key])
    return Timeline.model_validate(data)
