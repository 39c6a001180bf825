"""Offline scene stills drawn in other containers: ``generate_scene.map`` over content keys.

A task names its inputs (the product photos, the logo, the font) by their keys in the blob store,
uploaded once per job by :class:`MapClips`, and carries the storage grant its container uses to
read them and to store the still it draws. Nothing is re-encoded on the way: the container decodes
the same files with the same code as a local render, so the stills are the same pixels.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypedDict

from modal_app.transfer import fetch_all, put_once
from pipeline.images import load_rgb
from pipeline.palette.model import Palette
from pipeline.render.plan import load_logo
from pipeline.storage import BlobStore
from pipeline.timeline import StillClip, VideoClip
from pipeline.visuals import ClipContext, ClipRequest, PhotoMotionClips

__all__ = ["MapClips", "SceneAsset", "SceneTask", "render_scene"]


class SceneTask(TypedDict):
    request: dict[str, Any]  # a ClipRequest as JSON
    palette: dict[str, Any]  # the render's Palette as JSON
    product_name: str
    price: str
    photos: list[str]  # blob keys, in the brief's photo order
    logo: str | None  # blob key
    font: str  # blob key
    out_prefix: str  # where the still goes in the blob store
    grant: str  # what this container may read and write
    api_url: str


class SceneAsset(TypedDict):
    clip: dict[str, Any]  # a StillClip as JSON; ``image`` is its blob key


def render_scene(task: SceneTask, store: BlobStore) -> SceneAsset:
    """One scene in one format: its still (a photo to move, or a drawn card) into the store."""
    request = ClipRequest.model_validate(task["request"])
    with tempfile.TemporaryDirectory(prefix="reelforge-scene-") as scratch:
        work = Path(scratch)
        keys = {f"photo{i}": k for i, k in enumerate(task["photos"])} | {"font": task["font"]}
        if task["logo"] is not None:
            keys["logo"] = task["logo"]
        files = fetch_all(store, keys, work / "in")
        clips = PhotoMotionClips(
            photos=[
                load_rgb(files[f"photo{i}"], field=f"product.photos[{i}]")
                for i in range(len(task["photos"]))
            ],
            palette=Palette.model_validate(task["palette"]),
            font_path=files["font"],
            product_name=task["product_name"],
            price=task["price"],
            logo=load_logo(files["logo"]) if "logo" in files else None,
        )
        (work / "out").mkdir()
        clip = clips.generate(request, workdir=work / "out")
        key = put_once(store, clip.image, task["out_prefix"])
        return SceneAsset(clip=clip.model_dump(mode="json") | {"image": key})


class MapClips:
    """A ClipGenerator that draws every scene of every format in parallel containers through a
    ``map`` such as ``generate_scene.map``; the stills come back into the work folder."""

    def __init__(
        self,
        map_fn: Callable[[list[SceneTask]], Iterable[SceneAsset]],
        ctx: ClipContext,
        *,
        store: BlobStore,
        grant: str,
        api_url: str,
        prefix: str,
    ) -> None:
        self._map, self._ctx, self._store = map_fn, ctx, store
        self._grant, self._api_url, self._prefix = grant, api_url, prefix.rstrip("/")
        self._inputs: dict[str, Any] | None = None

    def _uploaded(self) -> dict[str, Any]:
        """The inputs' keys, each file uploaded once for every task of the job."""
        if self._inputs is None:
            ctx, media = self._ctx, f"{self._prefix}/media"
            self._inputs = {
                "photos": [put_once(self._store, p, media) for p in ctx.photo_paths],
                "logo": put_once(self._store, ctx.logo_path, media) if ctx.logo_path else None,
                "font": put_once(self._store, ctx.font_path, media),
            }
        return self._inputs

    def _task(self, request: ClipRequest) -> SceneTask:
        ctx, inputs = self._ctx, self._uploaded()
        return SceneTask(
            request=request.model_dump(mode="json"), palette=ctx.palette.model_dump(mode="json"),
            product_name=ctx.product_name, price=ctx.price, photos=inputs["photos"],
            logo=inputs["logo"], font=inputs["font"], out_prefix=f"{self._prefix}/stills",
            grant=self._grant, api_url=self._api_url,
        )  # fmt: skip

    def generate(self, request: ClipRequest, *, workdir: Path) -> StillClip | VideoClip:
        return self.generate_many([request], workdir=workdir)[0]

    def generate_many(
        self, requests: Sequence[ClipRequest], *, workdir: Path
    ) -> list[StillClip | VideoClip]:
        assets = list(self._map([self._task(r) for r in requests]))
        keys = {str(i): str(a["clip"]["image"]) for i, a in enumerate(assets)}
        files = fetch_all(self._store, keys, workdir / "stills")
        return [
            StillClip.model_validate(asset["clip"] | {"image": str(files[str(i)])})
            for i, asset in enumerate(assets)
        ]
