"""The offline ClipGenerator: Ken Burns motion over the product photos, and drawn cards."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from pipeline.formats import FormatSpec
from pipeline.palette.model import Palette
from pipeline.timeline import Motion, Rect, StillClip
from pipeline.visuals.cards import cover_crop_width, cover_fit, end_card, text_card
from pipeline.visuals.port import ClipContext, ClipRequest

__all__ = ["PhotoMotionClips", "ken_burns", "offline_clips"]

# Zoom and pan per scene, cycled so consecutive scenes move differently.
_MOVES = ("zoom_in", "pan_right", "zoom_out", "pan_up", "zoom_in_left", "pan_left")


def ken_burns(index: int, strength: float) -> Motion:
    """A move for scene ``index``; ``strength`` is the zoom factor at the tight end (e.g. 1.1)."""
    s = 1 / strength  # size of the tight window
    full = Rect(x=0, y=0, w=1, h=1)
    centre = Rect(x=(1 - s) / 2, y=(1 - s) / 2, w=s, h=s)
    move = _MOVES[index % len(_MOVES)]
    if move == "zoom_in":
        return Motion(start=full, end=centre)
    if move == "zoom_out":
        return Motion(start=centre, end=full)
    if move == "zoom_in_left":
        return Motion(start=full, end=Rect(x=(1 - s) * 0.25, y=(1 - s) / 2, w=s, h=s))
    if move == "pan_right":
        return Motion(
            start=Rect(x=0, y=(1 - s) / 2, w=s, h=s), end=Rect(x=1 - s, y=(1 - s) / 2, w=s, h=s)
        )
    if move == "pan_left":
        return Motion(
            start=Rect(x=1 - s, y=(1 - s) / 2, w=s, h=s), end=Rect(x=0, y=(1 - s) / 2, w=s, h=s)
        )
    return Motion(
        start=Rect(x=(1 - s) / 2, y=1 - s, w=s, h=s), end=Rect(x=(1 - s) / 2, y=0, w=s, h=s)
    )


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


# The perspective filter recomputes a per-pixel map every frame (about 11 ns a pixel here), so
# motion runs at a working resolution and is upscaled after: never finer than the photo's real
# detail, never under a third of the output, never over 60% of it (bench/render_bench.py).
MIN_WORK, MAX_WORK = 1 / 3, 0.6


def working_size(photo_size: tuple[int, int], spec: FormatSpec) -> tuple[int, int]:
    """Resolution to move the photo at (the output is upscaled from it)."""
    detail = cover_crop_width(photo_size, (spec.width, spec.height)) * 1.15
    width = min(spec.width * MAX_WORK, max(spec.width * MIN_WORK, detail))
    return _even(width), _even(width * spec.height / spec.width)


class PhotoMotionClips:
    """Turns product photos into moving clips and draws cards; needs no network and no keys."""

    def __init__(
        self,
        *,
        photos: Sequence[Image.Image],
        palette: Palette,
        font_path: Path,
        product_name: str,
        price: str,
        logo: Image.Image | None = None,
    ) -> None:
        self._photos = list(photos)
        self._palette = palette
        self._font = str(font_path)
        self._name = product_name
        self._price = price
        self._logo = logo

    def generate(self, request: ClipRequest, *, workdir: Path) -> StillClip:
        spec = request.spec
        size = (spec.width, spec.height)
        roles = self._palette.roles
        path = workdir / f"{spec.format.value}-{spec.width}-scene{request.scene_index:02d}.png"
        photo = (
            self._photos[request.photo % len(self._photos)] if request.photo is not None else None
        )
        if request.kind == "photo" and photo is not None:
            work = working_size(photo.size, spec)
            cover_fit(photo, work).save(path, compress_level=1)
            strength = 1.16 if request.motion == "dynamic" else 1.09
            return StillClip(
                image=path,
                width=work[0],
                height=work[1],
                motion=ken_burns(request.scene_index, strength),
            )
        if request.kind == "end_card":
            image = end_card(
                size,
                name=self._name,
                price=self._price,
                cta=request.text,
                background=roles.background,
                text_colour=roles.on_background,
                accent=roles.accent,
                on_accent=roles.on_accent,
                font_path=self._font,
                safe=spec.safe_box,
                photo=self._photos[0] if self._photos else None,
                logo=self._logo,
            )
        else:
            image = text_card(
                size,
                request.text,
                background=roles.background,
                text_colour=roles.on_background,
                font_path=self._font,
                safe=spec.safe_box,
                photo=photo or (self._photos[0] if self._photos else None),
            )
        image.save(path, compress_level=1)
        return StillClip(image=path, width=spec.width, height=spec.height, motion=None)


def offline_clips(ctx: ClipContext) -> PhotoMotionClips:
    """The default clip factory: photo motion and drawn cards, no network, no keys."""
    return PhotoMotionClips(
        photos=ctx.photos, palette=ctx.palette, font_path=ctx.font_path,
        product_name=ctx.product_name, price=ctx.price, logo=ctx.logo,
    )  # fmt: skip
