"""Shared pieces of the Kling and fal contract tests: a scene, a runtime, real media bytes."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from pipeline.formats import FORMATS, Format
from pipeline.palette.model import Palette, PaletteRoles, Swatch
from pipeline.providers.cache import ProviderCache
from pipeline.providers.runtime import ProviderRuntime
from pipeline.providers.tasks import NoInbox, TaskJournal
from pipeline.providers.usage import UsageMeter
from pipeline.visuals.port import ClipContext, ClipRequest

DATA = Path(__file__).parent / "data"
CLIP = (DATA / "tiny_clip.mp4").read_bytes()  # a real 1 s H.264 MP4 (72x128)
SECRET = "whsec_" + base64.b64encode(b"video-adapter-test-secret-32byte").decode()


def png_bytes(size: tuple[int, int] = (96, 160), colour: str = "#c05030") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


class Sleeps:
    """An async sleep that returns at once and remembers every delay asked for."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class Inbox:
    """Callback bodies received per task id, as the service's provider_events would hold them."""

    def __init__(self) -> None:
        self.by_task: dict[str, list[dict[str, Any]]] = {}

    def payloads(self, provider: str, task_id: str) -> list[dict[str, Any]]:
        return self.by_task.get(task_id, [])


class Recorder:
    """A MockTransport handler delegating to ``route`` and recording every request."""

    def __init__(self, route: Callable[[httpx.Request], httpx.Response]) -> None:
        self.route = route
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.route(request)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))

    def sent(self, method: str, path_part: str = "") -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and path_part in r.url.path]


def palette() -> Palette:
    swatch = Swatch(
        hex="#c05030", rgb=(192, 80, 48), lab=(50.0, 45.0, 40.0), weight=1.0, name="rust"
    )
    roles = PaletteRoles(
        background="#1a1a1a", on_background="#ffffff", accent="#c05030", on_accent="#ffffff",
        caption_text="#ffffff", caption_highlight="#ffd400", caption_outline="#000000",
    )  # fmt: skip
    return Palette(locale="en", swatches=(swatch,), roles=roles, source="photos")


def context(tmp_path: Path, *, with_photo: bool = True) -> ClipContext:
    photo = Image.new("RGB", (600, 400), "#3366aa")
    paths: list[Path] = []
    if with_photo:
        path = tmp_path / "product.png"
        photo.save(path)
        paths.append(path)
    return ClipContext(
        photos=[photo] if with_photo else [], palette=palette(), font_path=Path("unused.ttf"),
        product_name="Aurora Cup", price="$24.90", logo=None, photo_paths=paths,
    )  # fmt: skip


def scene(
    fmt: Format = Format.V9X16, *, photo: int | None = 0, duration: float = 4.2, index: int = 0
) -> ClipRequest:
    return ClipRequest(
        scene_index=index, kind="photo", photo=photo, text="",
        prompt="Slow dolly-in on a porcelain espresso cup, warm morning light",
        duration=duration, spec=FORMATS[fmt], seed=7,
    )  # fmt: skip


def runtime(
    tmp_path: Path, *, callback_base: str | None = None, inbox: Any = None
) -> ProviderRuntime:
    return ProviderRuntime(
        cache=ProviderCache(tmp_path / "cache"),
        meter=UsageMeter(),
        journal=TaskJournal(tmp_path / "work" / "tasks.json"),
        inbox=inbox if inbox is not None else NoInbox(),
        callback_base=callback_base,
        job_id="6f1c2a4e-0000-4000-8000-000000000001" if callback_base else None,
        callback_secrets={"kling": SECRET, "fal": SECRET} if callback_base else {},
        poll_interval=2.0,
    )
