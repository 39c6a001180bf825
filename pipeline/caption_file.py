"""The caption file of one format: karaoke lines from the voice, headlines from the script."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pipeline.captions import CaptionLook, TextOverlay, break_lines, build_ass
from pipeline.fonts import FontFile
from pipeline.formats import FormatSpec
from pipeline.manifest import VoiceLine
from pipeline.palette.model import Palette
from pipeline.script.model import SceneKind, Script
from pipeline.templates.model import Template

__all__ = ["caption_look", "write_caption_file"]


def caption_look(
    template: Template, palette: Palette, font: FontFile, spec: FormatSpec
) -> CaptionLook:
    style = template.caption_style
    short = min(spec.width, spec.height)
    return CaptionLook(
        font=font,
        size_px=round(short * 0.074 * style.scale),
        text_colour=palette.roles.caption_text,
        highlight_colour=palette.roles.caption_highlight,
        outline_colour=palette.roles.caption_outline,
        outline_px=max(2, round(short * 0.006)),
        # The outline alone carries the contrast guarantee; a shadow layer would cost a third
        # of the caption blending time for no legibility gain.
        shadow_px=0,
        uppercase=style.uppercase,
        position=style.position,
    )


def write_caption_file(
    path: Path,
    spec: FormatSpec,
    template: Template,
    palette: Palette,
    font: FontFile,
    lines: Sequence[VoiceLine],
    script: Script,
    starts: Sequence[float],
) -> None:
    words = [w for line in lines for w in line.words]
    caption_lines = break_lines(
        words,
        max_words=template.caption_style.max_words,
        max_chars=28 if spec.width < spec.height else 36,
    )
    overlays = []
    for scene, start in zip(script.scenes, starts, strict=True):
        if scene.kind == SceneKind.PHOTO and scene.on_screen_text:
            overlays.append(
                TextOverlay(
                    text=scene.on_screen_text,
                    start=start + 0.15,
                    end=start + scene.duration,
                    role="headline",
                )
            )
    text = build_ass(
        spec=spec,
        lines=caption_lines,
        look=caption_look(template, palette, font, spec),
        overlays=overlays,
    )
    path.write_text(text, encoding="utf-8")
