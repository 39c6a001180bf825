"""The render's intake: every media file from outside is admitted into the render's private
work folder first (``pipeline.media.inputs``): the brief's photos, logo, music and voice-over,
a generator's video clips, and every file a timeline file names for ``reelforge compose``. What
the render opens afterwards are those copies: FFmpeg by their containers' demuxers alone,
Pillow by their formats' decoders alone."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from pipeline.brief import Brief
from pipeline.containers import Role
from pipeline.errors import BadInput
from pipeline.media.inputs import admit, admit_clip, copy_in, inputs_dir
from pipeline.timeline import StillClip, Timeline, VideoClip

__all__ = ["admit_brief", "admit_clips", "admit_timeline"]

Clip = StillClip | VideoClip

# The brief's media files, by the role they are admitted as: the photos and the logo are
# decoded by Pillow (pipeline.images); the font, read by FreeType, is checked by pipeline.fonts.
_ROLES = {"product.photos": Role.IMAGE, "brand.logo": Role.IMAGE, "music": Role.AUDIO,
          "voice.file": Role.AUDIO}  # fmt: skip
_FONT_TAGS = (b"\x00\x01\x00\x00", b"true", b"OTTO")


def admit_brief(brief: Brief, work: Path) -> Brief:
    """The brief with its photos, logo, music and voice-over replaced by admitted copies in
    ``work``'s inputs; BadInput naming the field and the file if one is not a single allowed
    image or audio file."""

    def change(field: str, path: Path) -> Path:
        role = _ROLES.get(field.split("[")[0])
        if role is None:
            return path
        return admit(path, role, into=inputs_dir(work), field=field, reader="pillow").path

    return brief.map_files(change)


def admit_clips(clips: Sequence[Clip], work: Path) -> tuple[Clip, ...]:
    """Each video clip's file admitted into ``work``'s inputs (a clip already admitted is kept;
    stills are the render's own PNGs)."""
    return tuple(
        admit_clip(c, work, field=f"clips[{i}]") if isinstance(c, VideoClip) else c
        for i, c in enumerate(clips)
    )


def admit_timeline(timeline: Timeline, into: Path, *, where: str) -> Timeline:
    """``timeline`` with every file it names admitted into ``into``: stills as images, clips as
    videos, the soundtrack as audio, the captions as an ASS script and the fonts folder as
    fonts; BadInput naming ``where`` and the field otherwise."""
    scenes = []
    for i, scene in enumerate(timeline.scenes):
        clip, field = scene.clip, f"{where}.scenes[{i}].clip"
        if isinstance(clip, StillClip):
            image = admit(
                clip.image, Role.IMAGE, into=into, field=f"{field}.image", name=str(clip.image)
            )
            clip = clip.model_copy(update={"image": image.path})
        else:
            video = admit(
                clip.path, Role.VIDEO, into=into, field=f"{field}.path", name=str(clip.path)
            )
            clip = clip.model_copy(update={"path": video.path})
        scenes.append(scene.model_copy(update={"clip": clip}))
    audio = admit(
        timeline.audio, Role.AUDIO, into=into, field=f"{where}.audio", name=str(timeline.audio)
    )
    update: dict[str, object] = {"scenes": tuple(scenes), "audio": audio.path}
    if timeline.subtitles is not None:
        update["subtitles"] = _script(timeline.subtitles, into, f"{where}.subtitles")
    if timeline.fonts_dir is not None:
        update["fonts_dir"] = _fonts(timeline.fonts_dir, into, f"{where}.fonts_dir")
    return timeline.model_copy(update=update)


def _script(source: Path, into: Path, field: str) -> Path:
    """An ASS caption script, copied: UTF-8 text that starts as one."""
    copy, digest = copy_in(source, into, field=field, name=str(source))
    try:
        head = copy.read_bytes()[:64].removeprefix(b"\xef\xbb\xbf").lstrip()
        if not head.startswith(b"[Script Info]"):
            raise BadInput(field, f"{source} is not an ASS caption script")
        final = into / f"{digest}.ass"
        os.replace(copy, final)
    finally:
        copy.unlink(missing_ok=True)
    return final


def _fonts(source: Path, into: Path, field: str) -> Path:
    """A fonts folder, copied file by file: TrueType or OpenType fonts only, nothing linked."""
    if source.is_symlink() or not source.is_dir():
        raise BadInput(field, f"{source} is not a folder of fonts")
    folder = into / f"fonts-{len(list(into.glob('fonts-*')))}"
    folder.mkdir(parents=True)
    for n, member in enumerate(sorted(source.iterdir())):
        copy, _ = copy_in(member, folder, field=f"{field}[{n}]", name=str(member))
        with copy.open("rb") as fh:
            tag = fh.read(4)
        if tag not in _FONT_TAGS:
            copy.unlink()
            raise BadInput(f"{field}[{n}]", f"{member} is not a TrueType or OpenType font")
        os.replace(copy, folder / member.name)
    return folder
