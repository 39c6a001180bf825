"""Scene assets and palettes from bytes: the offline adapters, shaped for ``Function.map``."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypedDict

from PIL import Image

from pipeline.fonts import default_caption_font
from pipeline.images import load_rgb
from pipeline.palette import KMeansPalette, palette_from_hex
from pipeline.palette.model import Palette
from pipeline.timeline import StillClip, VideoClip
from pipeline.visuals import ClipContext, ClipRequest, PhotoMotionClips

__all__ = ["MapClips", "SceneAsset", "SceneTask", "images_from_bytes", "palette_of", "render_scene"]


class SceneTask(TypedDict, total=False):
    request: dict[str, Any]  # a ClipRequest as JSON
    photos: list[bytes]
    palette: list[str]  # brand hexes, heaviest first
    palette_json: dict[str, Any]  # the render's own Palette, when the caller has it
    locale: str
    product_name: str
    price: str


class SceneAsset(TypedDict):
    clip: dict[str, Any]  # a StillClip as JSON; ``image`` is the file name of ``image_bytes``
    image_bytes: bytes


def images_from_bytes(blobs: Sequence[bytes], folder: Path) -> list[Image.Image]:
    """Decodes untrusted image bytes through the same checks as a brief's photos."""
    images = []
    for i, blob in enumerate(blobs):
        path = folder / f"image-{i:02d}"
        path.write_bytes(blob)
        images.append(load_rgb(path, field=f"images[{i}]"))
    return images


def palette_of(blobs: Sequence[bytes], locale: str) -> dict[str, Any]:
    """The k-means palette of the images, with colour names in ``locale``, as JSON."""
    with tempfile.TemporaryDirectory(prefix="reelforge-") as scratch:
        images = images_from_bytes(blobs, Path(scratch))
        return KMeansPalette().extract(images, locale=locale).model_dump(mode="json")


def render_scene(task: SceneTask) -> SceneAsset:
    """One scene in one format: the still (photo to move, or a drawn card) and its clip."""
    request = ClipRequest.model_validate(task["request"])
    with tempfile.TemporaryDirectory(prefix="reelforge-") as scratch:
        work = Path(scratch)
        clips = PhotoMotionClips(
            photos=images_from_bytes(task["photos"], work),
            palette=(
                Palette.model_validate(task["palette_json"])
                if "palette_json" in task
                else palette_from_hex(task["palette"], locale=task["locale"])
            ),
            font_path=default_caption_font().path,
            product_name=task["product_name"],
            price=task["price"],
        )
        clip = clips.generate(request, workdir=work)
        data = clip.model_dump(mode="json")
        data["image"] = clip.image.name
        return SceneAsset(clip=data, image_bytes=clip.image.read_bytes())


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


class MapClips:
    """A ClipGenerator that renders every scene of every format in parallel containers, through
    a ``map`` such as ``generate_scene.map``; the stills come back as bytes into the work folder."""

    def __init__(
        self, map_fn: Callable[[list[SceneTask]], Iterable[SceneAsset]], ctx: ClipContext
    ) -> None:
        self._map = map_fn
        self._ctx = ctx
        self._photos = [_png(p) for p in ctx.photos]

    def _task(self, request: ClipRequest) -> SceneTask:
        ctx = self._ctx
        return SceneTask(
            request=request.model_dump(mode="json"), photos=self._photos, palette=[],
            palette_json=ctx.palette.model_dump(mode="json"), locale=ctx.palette.locale,
            product_name=ctx.product_name, price=ctx.price,
        )  # fmt: skip

    def generate(self, request: ClipRequest, *, workdir: Path) -> StillClip | VideoClip:
        return self.generate_many([request], workdir=workdir)[0]

    def generate_many(
        self, requests: Sequence[ClipRequest], *, workdir: Path
    ) -> list[StillClip | VideoClip]:
        made: list[StillClip | VideoClip] = []
        for request, asset in zip(
            requests, self._map([self._task(r) for r in requests]), strict=True
        ):
            name = Path(
                str(asset["clip"]["image"])
            ).name  # a bare file name: nothing outside workdir
            path = workdir / f"{request.spec.format.value}-{request.spec.width}-{name}"
            path.write_bytes(asset["image_bytes"])
            made.append(StillClip.model_validate({**asset["clip"], "image": str(path)}))
        return made
