"""Pexels' video search answer, and what is made of it: the videos parsed, ranked for a scene, the
MP4 file chosen for a frame, and the credit owed to the videographer.

From https://www.pexels.com/api/documentation/#videos-search (and #videos-overview): a 200 is
``{page, per_page, total_results, url, videos: [Video], prev_page?, next_page?}``, where a
Video is ``{id, width, height, url, image, duration, user: {id, name, url},
video_files: [{id, quality: "hd"|"sd"|"hls", file_type, width, height, fps, link}],
video_pictures}``; the HLS entry has null width and height and an ``.m3u8`` link.
Pexels' guidelines ask to credit the videographer and link back to Pexels, hence
:class:`StockAttribution`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.providers.errors import ProviderError
from pipeline.providers.pexels_query import Orientation

__all__ = [
    "PexelsFile",
    "PexelsVideo",
    "StockAttribution",
    "attribution",
    "file_meta",
    "parse_videos",
    "pick_file",
    "rank_videos",
    "read_videos",
]

_log = logging.getLogger(__name__)


class StockAttribution(BaseModel):
    """Credit owed to a Pexels videographer for a clip a render used."""

    model_config = ConfigDict(frozen=True)

    video_id: int
    author: str
    author_url: str
    page_url: str

    @property
    def text(self) -> str:
        return f"Video by {self.author} on Pexels"


class _User(BaseModel):
    name: str = ""
    url: str = ""


class PexelsFile(BaseModel):
    """One of a video's ``video_files``."""

    id: int
    quality: str | None = None
    file_type: str | None = None
    width: int | None = None
    height: int | None = None
    link: str


class PexelsVideo(BaseModel):
    """One of a search answer's ``videos``."""

    id: int
    width: int
    height: int
    url: str = ""
    duration: float
    user: _User = _User()
    video_files: list[PexelsFile] = []


def _shape(width: int, height: int) -> Orientation:
    ratio = width / height if height else 0.0
    if abs(ratio - 1.0) <= 0.05:
        return "square"
    return "portrait" if ratio < 1.0 else "landscape"


def _mp4s(video: PexelsVideo) -> list[PexelsFile]:
    return [
        f
        for f in video.video_files
        if f.file_type == "video/mp4"
        and f.quality != "hls"
        and f.width
        and f.height
        and not httpx.URL(f.link).path.endswith(".m3u8")
    ]


def pick_file(video: PexelsVideo, width: int, height: int) -> PexelsFile | None:
    """The smallest MP4 that covers a ``width`` x ``height`` frame without upscaling (the
    compositor scales to cover and crops), else the largest there is."""
    files = _mp4s(video)
    if not files:
        return None

    def pixels(f: PexelsFile) -> int:
        return (f.width or 0) * (f.height or 0)

    covering = [f for f in files if max(width / (f.width or 1), height / (f.height or 1)) <= 1.0]
    if covering:
        return min(covering, key=pixels)
    return max(files, key=pixels)


def rank_videos(
    videos: Sequence[PexelsVideo], orientation: Orientation, min_duration: float
) -> list[PexelsVideo]:
    """Best first: the right shape, then long enough in Pexels' (relevance) order, then the
    longest of the rest. Videos without a usable MP4 are dropped."""
    usable = [v for v in videos if _mp4s(v)]
    shaped = [v for v in usable if _shape(v.width, v.height) == orientation] or usable
    enough = [v for v in shaped if v.duration >= min_duration]
    short = sorted((v for v in shaped if v.duration < min_duration), key=lambda v: -v.duration)
    return enough + short


def parse_videos(body: Any) -> list[PexelsVideo]:
    if not isinstance(body, dict) or not isinstance(body.get("videos"), list):
        raise ProviderError("pexels", "video search returned an unusable reply (no videos list)")
    videos: list[PexelsVideo] = []
    for item in body["videos"]:
        try:
            videos.append(PexelsVideo.model_validate(item))
        except ValidationError:
            _log.warning("pexels: skipping a malformed video entry in a search reply")
    return videos


def read_videos(path: Path) -> list[PexelsVideo] | None:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        return parse_videos(body)
    except (OSError, ValueError, ProviderError):
        return None  # unreadable entry: search again


def file_meta(video: PexelsVideo, chosen: PexelsFile) -> dict[str, Any]:
    return {
        "video_id": video.id,
        "video_file_id": chosen.id,
        "width": chosen.width,
        "height": chosen.height,
        "duration": video.duration,
        "link": chosen.link,
        "attribution": attribution(video).model_dump(),
    }


def attribution(video: PexelsVideo) -> StockAttribution:
    return StockAttribution(
        video_id=video.id, author=video.user.name, author_url=video.user.url, page_url=video.url
    )
