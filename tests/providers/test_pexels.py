"""PexelsStock against httpx.MockTransport, in the shapes of pexels.com/api/documentation."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import imageio_ffmpeg
import pytest
from PIL import Image

from pipeline.errors import BadInput
from pipeline.formats import FORMATS, Format
from pipeline.palette.model import Palette, PaletteRoles, Swatch
from pipeline.providers.breaker import BreakerState, CircuitBreaker
from pipeline.providers.cache import ProviderCache
from pipeline.providers.errors import (
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from pipeline.providers.http import RetryPolicy
from pipeline.providers.pexels import PexelsStock
from pipeline.providers.pexels_query import orientation_for, search_terms
from pipeline.providers.runtime import ProviderRuntime
from pipeline.providers.usage import UsageMeter
from pipeline.settings import ProviderSettings
from pipeline.timeline import VideoClip
from pipeline.visuals.port import ClipContext, ClipRequest

KEY = "563492ad6f91700001000001abcdef"
SEARCH = "https://api.pexels.com/videos/search"
PROMPT = (
    "Aurora Espresso Cup, the exact product from reference photo 1. Steam rising from the cup "
    "on a marble counter at dawn. Camera: slow dolly-in, 85mm lens, shallow depth of field. "
    "Lighting: warm morning light."
)


@pytest.fixture(scope="session")
def mp4_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("pexels-media") / "red.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=c=red:s=64x64:d=1",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-y",
            str(out),
        ],
        check=True,
    )
    return out.read_bytes()


def _file(fid: int, w: int | None, h: int | None, quality: str = "hd", ext: str = "mp4") -> dict:
    link = (
        f"https://player.vimeo.com/external/{fid}.m3u8?s=x"
        if ext == "m3u8"
        else f"https://videos.pexels.com/video-files/{fid}/{fid}-{quality}_{w}_{h}_25fps.mp4"
    )
    return {
        "id": fid,
        "quality": quality,
        "file_type": "video/mp4",
        "width": w,
        "height": h,
        "fps": 25,
        "link": link,
    }


def _video(
    vid: int, w: int, h: int, duration: int, files: list[dict], author: str = "Joey"
) -> dict:
    return {
        "id": vid,
        "width": w,
        "height": h,
        "url": f"https://www.pexels.com/video/coffee-{vid}/",
        "image": f"https://images.pexels.com/videos/{vid}/free-video-{vid}.jpg",
        "duration": duration,
        "user": {"id": 680589, "name": author, "url": f"https://www.pexels.com/@{author.lower()}"},
        "video_files": files,
        "video_pictures": [
            {"id": 1, "picture": f"https://static-videos.pexels.com/{vid}/preview-0.jpg", "nr": 0}
        ],
    }


PORTRAIT_LONG = _video(
    2499611,
    2160,
    3840,
    22,
    [
        _file(125004, 1080, 1920),
        _file(125005, 540, 960, "sd"),
        _file(125006, 2160, 3840, "uhd"),
        _file(125007, None, None, "hls", ext="m3u8"),
    ],
    author="Joey Farina",
)
PORTRAIT_SHORT = _video(1111, 1080, 1920, 3, [_file(111, 1080, 1920)], author="Short Clip")
LANDSCAPE = _video(1448735, 4096, 2160, 32, [_file(58651, 4096, 2160), _file(58650, 2048, 1080)])
SQUARE = _video(2222, 1080, 1080, 12, [_file(222, 1080, 1080)])


def page(*videos: dict, total: int | None = None) -> dict:
    return {
        "page": 1,
        "per_page": 15,
        "total_results": len(videos) if total is None else total,
        "url": "https://www.pexels.com/search/videos/coffee/",
        "videos": list(videos),
    }


RATE = {
    "X-Ratelimit-Limit": "20000",
    "X-Ratelimit-Remaining": "19684",
    "X-Ratelimit-Reset": "1590529646",
}


class Pexels:
    """The search API plus the video CDN: answers searches from ``pages`` (in order, the last one
    repeating) and serves ``mp4`` for any file link; records every request."""

    def __init__(self, mp4: bytes, *pages: httpx.Response | dict) -> None:
        self.mp4 = mp4
        self.pages = list(pages) or [page(PORTRAIT_LONG)]
        self.requests: list[httpx.Request] = []

    @property
    def searches(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host == "api.pexels.com"]

    @property
    def downloads(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host != "api.pexels.com"]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == "api.pexels.com":
            reply = self.pages.pop(0) if len(self.pages) > 1 else self.pages[0]
            if isinstance(reply, httpx.Response):
                return reply
            return httpx.Response(200, json=reply, headers=RATE)
        return httpx.Response(200, content=self.mp4, headers={"Content-Type": "video/mp4"})


def palette(locale: str = "en") -> Palette:
    return Palette(
        locale=locale,
        swatches=(
            Swatch(
                hex="#9caf88", rgb=(156, 175, 136), lab=(69.6, -12.6, 18.4), weight=1.0, name="sage"
            ),
        ),
        roles=PaletteRoles(
            background="#f5efe6",
            on_background="#111111",
            accent="#1f2a44",
            on_accent="#ffffff",
            caption_text="#ffffff",
            caption_highlight="#f2c94c",
            caption_outline="#111111",
        ),
        source="brand",
    )


def ctx(product: str = "Aurora Espresso Cup", locale: str = "en") -> ClipContext:
    return ClipContext(
        photos=[Image.new("RGB", (8, 8))],
        palette=palette(locale),
        font_path=Path("font.ttf"),
        product_name=product,
        price="$24.90",
        logo=None,
    )


def clip_request(
    fmt: Format = Format.V9X16, *, duration: float = 4.0, prompt: str = PROMPT
) -> ClipRequest:
    return ClipRequest(
        scene_index=1,
        kind="photo",
        photo=0,
        text="",
        prompt=prompt,
        duration=duration,
        spec=FORMATS[fmt],
        spoken="Keeps your espresso hot.",
    )


class Env:
    def __init__(self, tmp_path: Path, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.tmp_path = tmp_path
        self.sleeps: list[float] = []
        self.breaker = CircuitBreaker("pexels", failure_threshold=1, reset_after=60)
        self.client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        self.meter = UsageMeter()
        self.runtime = ProviderRuntime(cache=ProviderCache(tmp_path / "cache"), meter=self.meter)

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def stock(self) -> PexelsStock:
        return PexelsStock(
            KEY,
            client=self.client,
            breaker=self.breaker,
            sleep=self._sleep,
            policy=RetryPolicy(jitter=0.0),
        )

    def make(
        self, request: ClipRequest | None = None, stock: PexelsStock | None = None, **kw: Any
    ) -> VideoClip:
        async def go() -> VideoClip:
            return await (stock or self.stock()).make(
                request or clip_request(),
                kw.pop("context", None) or ctx(),
                workdir=self.tmp_path / "work",
                runtime=self.runtime,
                **kw,
            )

        return asyncio.run(go())


# -- keywords and orientation ------------------------------------------------------------------


def test_search_terms_keep_the_scene_subject_and_the_product_noun() -> None:
    assert search_terms(PROMPT, product="Aurora Espresso Cup") == "steam rising marble cup"


def test_search_terms_drop_italian_stop_words_and_put_the_head_noun_first() -> None:
    terms = search_terms(
        "Il tuo caffè resta caldo più a lungo", product="Tazza da espresso Aurora", locale="it"
    )
    assert terms == "caffè resta caldo tazza"


def test_search_terms_fill_from_the_product_and_stay_short() -> None:
    assert search_terms("", product="Aurora Espresso Cup") == "cup aurora espresso"
    assert (
        len(search_terms("one red apple on wooden table near window sill", max_words=4).split())
        == 4
    )
    assert search_terms("a the and of, with", product="") == ""


@pytest.mark.parametrize(
    ("fmt", "orientation"),
    [
        (Format.V9X16, "portrait"),
        (Format.V4X5, "portrait"),
        (Format.V16X9, "landscape"),
        (Format.V1X1, "square"),
    ],
)
def test_orientation_per_format(fmt: Format, orientation: str) -> None:
    assert orientation_for(fmt) == orientation


# -- the contract ------------------------------------------------------------------------------


def test_make_sends_the_raw_key_and_the_query_and_downloads_the_chosen_file(
    tmp_path: Path, mp4_bytes: bytes
) -> None:
    api = Pexels(mp4_bytes, page(PORTRAIT_LONG))
    env = Env(tmp_path, api)
    stock = env.stock()

    clip = env.make(stock=stock)

    (search,) = api.searches
    assert search.method == "GET"
    assert str(search.url).startswith(SEARCH + "?")
    assert search.headers["Authorization"] == KEY  # the raw key, no "Bearer"
    assert dict(search.url.params) == {
        "query": "steam rising marble cup",
        "orientation": "portrait",
        "size": "medium",
        "page": "1",
        "per_page": "15",
    }
    # 1080x1920 covers a 9x16 frame without upscaling and is smaller than the UHD file
    (download,) = api.downloads
    assert download.url.path.endswith("/125004-hd_1080_1920_25fps.mp4")
    assert "Authorization" not in download.headers  # the key never leaves api.pexels.com
    assert isinstance(clip, VideoClip)
    assert clip.path.read_bytes() == mp4_bytes
    assert clip.trim_start == 0.0
    # metered even though free
    (usage,) = env.meter.usages
    assert (usage.provider, usage.unit, usage.units, usage.credits, usage.cached) == (
        "pexels",
        "call",
        1,
        0,
        False,
    )
    assert stock.rate_limit is not None
    assert (stock.rate_limit.limit, stock.rate_limit.remaining) == (20000, 19684)
    assert stock.attributions[0].author == "Joey Farina"
    assert stock.attributions[0].page_url == "https://www.pexels.com/video/coffee-2499611/"


@pytest.mark.parametrize(
    ("fmt", "orientation", "size", "video", "file_id"),
    [
        (Format.V16X9, "landscape", "medium", LANDSCAPE, 58650),
        (Format.V1X1, "square", "small", SQUARE, 222),
    ],
)
def test_orientation_and_size_follow_the_format(
    tmp_path: Path,
    mp4_bytes: bytes,
    fmt: Format,
    orientation: str,
    size: str,
    video: dict,
    file_id: int,
) -> None:
    api = Pexels(mp4_bytes, page(video))
    env = Env(tmp_path, api)
    spec = FORMATS[fmt] if fmt is not Format.V1X1 else FORMATS[fmt].scaled(720)
    env.make(clip_request(fmt).model_copy(update={"spec": spec}))
    assert api.searches[0].url.params["orientation"] == orientation
    assert api.searches[0].url.params["size"] == size
    assert f"/{file_id}-" in api.downloads[0].url.path


def test_a_long_enough_video_of_the_right_shape_wins_over_relevance_order(
    tmp_path: Path, mp4_bytes: bytes
) -> None:
    api = Pexels(mp4_bytes, page(LANDSCAPE, PORTRAIT_SHORT, PORTRAIT_LONG))
    env = Env(tmp_path, api)
    env.make(clip_request(duration=6.0))
    assert "/125004-" in api.downloads[0].url.path


def test_when_every_video_is_too_short_the_longest_is_taken(
    tmp_path: Path, mp4_bytes: bytes
) -> None:
    longer = _video(3333, 1080, 1920, 5, [_file(333, 1080, 1920)])
    api = Pexels(mp4_bytes, page(PORTRAIT_SHORT, longer))
    env = Env(tmp_path, api)
    env.make(clip_request(duration=30.0))
    assert "/333-" in api.downloads[0].url.path


def test_a_regeneration_takes_the_next_best_video(tmp_path: Path, mp4_bytes: bytes) -> None:
    other = _video(4444, 1080, 1920, 9, [_file(444, 1080, 1920)])
    api = Pexels(mp4_bytes, page(PORTRAIT_LONG, other))
    env = Env(tmp_path, api)
    env.make(attempt=1)
    assert "/444-" in api.downloads[0].url.path


def test_only_hls_or_no_results_fall_back_to_shorter_queries_then_fail(
    tmp_path: Path, mp4_bytes: bytes
) -> None:
    hls_only = _video(5555, 1080, 1920, 10, [_file(555, None, None, "hls", ext="m3u8")])
    api = Pexels(mp4_bytes, page(hls_only), page(), page())
    env = Env(tmp_path, api)
    with pytest.raises(ProviderError, match="no portrait stock video"):
        env.make()
    assert [r.url.params["query"] for r in api.searches] == [
        "steam rising marble cup",
        "steam rising",
        "steam",
    ]
    assert api.downloads == []


def test_a_shorter_query_that_finds_something_is_used(tmp_path: Path, mp4_bytes: bytes) -> None:
    api = Pexels(mp4_bytes, page(), page(PORTRAIT_LONG))
    env = Env(tmp_path, api)
    env.make()
    assert [r.url.params["query"] for r in api.searches] == [
        "steam rising marble cup",
        "steam rising",
    ]
    assert len(api.downloads) == 1


# -- cache -------------------------------------------------------------------------------------


def test_the_same_scene_again_costs_zero_requests(tmp_path: Path, mp4_bytes: bytes) -> None:
    api = Pexels(mp4_bytes, page(PORTRAIT_LONG))
    env = Env(tmp_path, api)
    first = env.make()
    before = len(api.requests)

    fresh = env.stock()  # another job, same shared cache
    second = env.make(stock=fresh)

    assert len(api.requests) == before
    assert second.path == first.path
    assert [u.cached for u in env.meter.usages] == [False, True, True]
    assert fresh.attributions[0].author == "Joey Farina"


def test_a_search_older_than_its_ttl_is_asked_again_but_the_file_is_not(
    tmp_path: Path, mp4_bytes: bytes
) -> None:
    api = Pexels(mp4_bytes, page(PORTRAIT_LONG))
    env = Env(tmp_path, api)
    env.make()
    stale = PexelsStock(KEY, client=env.client, breaker=env.breaker, search_ttl=0.0)
    env.make(stock=stale)
    assert len(api.searches) == 2
    assert len(api.downloads) == 1


def test_4x5_after_9x16_reuses_the_search_and_the_file(tmp_path: Path, mp4_bytes: bytes) -> None:
    api = Pexels(mp4_bytes, page(PORTRAIT_LONG))
    env = Env(tmp_path, api)
    a = env.make(clip_request(Format.V9X16))
    b = env.make(clip_request(Format.V4X5))
    assert len(api.searches) == 1
    assert len(api.downloads) == 1
    assert a.path == b.path


# -- errors ------------------------------------------------------------------------------------


def test_invalid_key_is_rejected_with_pexels_words_and_the_env_var(
    tmp_path: Path, mp4_bytes: bytes
) -> None:
    api = Pexels(mp4_bytes, httpx.Response(401, text="Unauthorized"))
    env = Env(tmp_path, api)
    with pytest.raises(ProviderRejected) as caught:
        env.make()
    assert caught.value.status == 401
    assert caught.value.provider_message == "Unauthorized"
    assert "PEXELS_API_KEY" in str(caught.value)
    assert len(api.requests) == 1  # a 401 is not retried
    assert env.meter.usages == ()


def test_429_storm_retries_then_reports_the_quota(tmp_path: Path, mp4_bytes: bytes) -> None:
    limited = httpx.Response(
        429,
        json={"error": "Rate limit exceeded"},
        headers={
            "X-Ratelimit-Limit": "200",
            "X-Ratelimit-Remaining": "0",
            "X-Ratelimit-Reset": "1590529646",
        },
    )
    api = Pexels(mp4_bytes, page(PORTRAIT_LONG), limited)
    env = Env(tmp_path, api)
    stock = env.stock()
    env.make(stock=stock)  # learns the quota from the headers
    with pytest.raises(ProviderRateLimited) as caught:
        env.make(clip_request(prompt="Hands pouring latte art in a busy cafe"), stock=stock)
    assert caught.value.status == 429
    assert caught.value.provider_message == "Rate limit exceeded"
    assert "left 19684 of 20000 requests, resets 2020-05-26" in str(caught.value)
    assert env.sleeps == [0.5, 1.0, 2.0]
    assert len(api.searches) == 1 + 4


def test_timeouts_are_retried_then_the_search_goes_through(
    tmp_path: Path, mp4_bytes: bytes
) -> None:
    api = Pexels(mp4_bytes, page(PORTRAIT_LONG))
    timeouts = [httpx.ReadTimeout("read timed out"), httpx.ConnectTimeout("connect timed out")]

    def flaky(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.pexels.com" and timeouts:
            api.requests.append(request)
            raise timeouts.pop(0)
        return api(request)

    env = Env(tmp_path, flaky)
    clip = env.make()
    assert clip.path.read_bytes() == mp4_bytes
    assert len(api.searches) == 3
    assert env.sleeps == [0.5, 1.0]


def test_malformed_json_is_a_provider_error_and_nothing_is_cached(
    tmp_path: Path, mp4_bytes: bytes
) -> None:
    api = Pexels(mp4_bytes, httpx.Response(200, text="<html>oops</html>"), page(PORTRAIT_LONG))
    env = Env(tmp_path, api)
    with pytest.raises(ProviderError, match="malformed JSON"):
        env.make()
    env.make()  # the bad answer was not cached: a second try searches again
    assert len(api.searches) == 2


def test_a_reply_without_videos_is_unusable(tmp_path: Path, mp4_bytes: bytes) -> None:
    api = Pexels(mp4_bytes, {"page": 1, "per_page": 15})
    env = Env(tmp_path, api)
    with pytest.raises(ProviderError, match="unusable reply"):
        env.make()


def test_provider_down_opens_the_breaker_and_later_calls_fail_fast(
    tmp_path: Path, mp4_bytes: bytes
) -> None:
    api = Pexels(mp4_bytes, httpx.Response(503, text="Service Unavailable"))
    env = Env(tmp_path, api)
    with pytest.raises(ProviderUnavailable):
        env.make()
    assert env.breaker.state is BreakerState.OPEN
    sent = len(api.requests)
    with pytest.raises(ProviderUnavailable, match="circuit open"):
        env.make(clip_request(prompt="A different scene entirely"))
    assert len(api.requests) == sent


def test_missing_key_is_bad_input_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PEXELS_API_KEY", raising=False)
    with pytest.raises(BadInput) as caught:
        PexelsStock.from_settings(ProviderSettings.from_env(os.environ))
    assert caught.value.where == "PEXELS_API_KEY"


def test_from_settings_reads_the_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mp4_bytes: bytes
) -> None:
    monkeypatch.setenv("PEXELS_API_KEY", KEY)
    api = Pexels(mp4_bytes, page(PORTRAIT_LONG))
    stock = PexelsStock.from_settings(
        ProviderSettings.from_env(os.environ),
        client=httpx.AsyncClient(transport=httpx.MockTransport(api)),
    )
    assert (stock.name, stock.model) == ("pexels", "videos")
    Env(tmp_path, api).make(stock=stock)
    assert api.searches[0].headers["Authorization"] == KEY


# -- ranking and attribution across a reply ---------------------------------------------------


def test_a_reply_is_ranked_by_shape_then_length_and_each_pick_is_credited(
    tmp_path: Path, mp4_bytes: bytes
) -> None:
    api = Pexels(mp4_bytes, page(PORTRAIT_SHORT, LANDSCAPE, PORTRAIT_LONG))
    env = Env(tmp_path, api)
    stock = env.stock()
    env.make(stock=stock)  # the long portrait video first ...
    env.make(stock=stock, attempt=1)  # ... then the short one; the landscape one is not a pick
    env.make(stock=stock, attempt=2)  # wraps round to the best
    assert len(api.searches) == 1  # one search, answered from the cache after
    assert api.searches[0].url.params["orientation"] == "portrait"
    assert [r.url.path.rsplit("/", 1)[1] for r in api.downloads] == [
        "125004-hd_1080_1920_25fps.mp4",
        "111-hd_1080_1920_25fps.mp4",
    ]
    assert [(a.video_id, a.author, a.page_url, a.text) for a in stock.attributions] == [
        (
            2499611,
            "Joey Farina",
            "https://www.pexels.com/video/coffee-2499611/",
            "Video by Joey Farina on Pexels",
        ),
        (
            1111,
            "Short Clip",
            "https://www.pexels.com/video/coffee-1111/",
            "Video by Short Clip on Pexels",
        ),
    ]
