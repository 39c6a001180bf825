"""Scene stills fan out through a ``map`` (Modal's ``generate_scene.map``): every input goes to
the blob store once by content, each task draws its still from the keys, and the ad is the same."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from modal_app.scenes import MapClips, SceneAsset, SceneTask, render_scene
from pipeline.brief import load_brief
from pipeline.formats import Format
from pipeline.render import Ports
from pipeline.storage import LocalFolderStore
from pipeline.voice import FakeVoice
from tests.rendering import render_ad

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
WriteBrief = Callable[[dict[str, Any]], Path]


def test_render_fans_scenes_out_through_map(
    tmp_path: Path, write_brief: WriteBrief, brief_data: dict[str, Any]
) -> None:
    store = LocalFolderStore(tmp_path / "blobs", url_secret=b"k" * 32)
    batches: list[int] = []

    def local_map(tasks: list[SceneTask]) -> Iterable[SceneAsset]:
        batches.append(len(tasks))
        return [render_scene(t, store) for t in tasks]  # what each container runs

    def clips(ctx: Any) -> MapClips:
        return MapClips(local_map, ctx, store=store, grant="g", api_url="http://api", prefix="work/j")

    brief_data["brand"]["logo"] = "photos/chelsea.png"
    brief = load_brief(write_brief(brief_data))
    options: dict[str, Any] = {"preview": True, "formats": (Format.V9X16, Format.V1X1)}
    mapped = render_ad(
        brief, tmp_path / "mapped", **options, ports=Ports(voice=FakeVoice(), clip_factory=clips)
    )
    scenes = len(mapped.manifest.script.scenes)
    assert batches == [2 * scenes], "one map call for every scene of every format"
    media = sorted(p.name for p in (tmp_path / "blobs" / "work" / "j" / "media").iterdir())
    assert len(media) == 3, "the photo, the logo and the font, each uploaded once"
    assert all(o.qc.passed for o in mapped.manifest.outputs)
    local = render_ad(brief, tmp_path / "local", **options, ports=Ports(voice=FakeVoice()))
    assert mapped.manifest.palette == local.manifest.palette
    for fmt in ("9x16", "1x1"):
        mapped_still = mapped.out_dir / f"{fmt}.png"
        assert mapped_still.read_bytes() == (local.out_dir / f"{fmt}.png").read_bytes()


@pytest.mark.parametrize("kind", ["end_card", "text_card", "photo"])
def test_a_card_drawn_through_the_fan_out_is_the_local_card_pixel_for_pixel(
    tmp_path: Path, kind: str
) -> None:
    from PIL import Image

    from pipeline.fonts import _font_dir
    from pipeline.formats import FORMATS
    from pipeline.images import load_rgb
    from pipeline.palette import FakePalette
    from pipeline.render.plan import load_logo
    from pipeline.visuals import ClipContext, ClipRequest, PhotoMotionClips

    photos = ROOT / "examples" / "photos"
    logo, font = photos / "rocket.png", _font_dir() / "RedHatDisplay-Regular.ttf"  # not the default
    ctx = ClipContext(
        photos=[load_rgb(photos / "coffee.png", field="p")], palette=FakePalette().extract([], locale="en"),
        font_path=font, product_name="Aurora Espresso Cup", price="$24.90", logo=load_logo(logo),
        photo_paths=[photos / "coffee.png"], logo_path=logo,
    )  # fmt: skip
    request = ClipRequest(
        scene_index=4, kind=kind, photo=0 if kind == "photo" else None,
        text="Keeps espresso hot", prompt="a cup", duration=3.0, spec=FORMATS[Format.V9X16],
    )  # fmt: skip
    store = LocalFolderStore(tmp_path / "blobs", url_secret=b"k" * 32)
    (tmp_path / "local").mkdir()
    mapped = MapClips(
        lambda tasks: [render_scene(t, store) for t in tasks], ctx, store=store, grant="g",
        api_url="http://api", prefix="work/j",
    ).generate(request, workdir=tmp_path / "mapped")
    local = PhotoMotionClips(
        photos=ctx.photos, palette=ctx.palette, font_path=font, product_name=ctx.product_name,
        price=ctx.price, logo=ctx.logo,
    ).generate(request, workdir=tmp_path / "local")
    assert mapped.model_dump(exclude={"image"}) == local.model_dump(exclude={"image"})
    with Image.open(mapped.image) as a, Image.open(local.image) as b:
        assert a.size == b.size and a.tobytes() == b.tobytes()
