"""Asset downloads: content-addressed files, redirects, the size cap, the deadline, and briefs
whose photos, logo, font or music are URLs (a loopback server stands in for the public host)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

import pipeline.download as downloads
from pipeline.brief import parse_brief
from pipeline.download import DownloadPolicy, download, fetch_brief_assets, load_brief_fetching
from pipeline.egress import BlockedURL, DeadlineExceeded, TooLarge
from pipeline.errors import BriefError
from tests.netlab import PNG, Lab, close_lab, open_lab, wait_for


@pytest.fixture(scope="module")
def shared_lab() -> Iterator[Lab]:
    lab = open_lab()
    yield lab
    close_lab(lab)


@pytest.fixture
def lab(shared_lab: Lab) -> Lab:
    shared_lab.reset()
    return shared_lab


def _get(lab: Lab, path: str, dest: Path, **kwargs: Any) -> Path:
    url = f"http://cdn.test:{lab.port}{path}"
    return download(url, dest, resolve=lab.dns, allow=lab.allow, transport=lab.jail, **kwargs)


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_download_is_stored_under_its_sha256_with_the_suffix_of_its_type(
    lab: Lab, tmp_path: Path
) -> None:
    path = _get(lab, "/photo.png", tmp_path)
    assert path == tmp_path / f"{hashlib.sha256(PNG).hexdigest()}.png"
    assert path.read_bytes() == PNG
    assert _get(lab, "/photo.png", tmp_path) == path  # the same bytes, the same file
    assert _files(tmp_path) == [path.name]
    assert lab.public.state.requests[0] == ("/photo.png", f"cdn.test:{lab.port}")


@pytest.mark.parametrize(
    ("path", "suffix"),
    [
        ("/typed?type=audio/mpeg", ".mp3"),
        ("/typed?type=image/jpeg;%20charset=binary", ".jpg"),
        ("/typed?type=font/ttf", ".ttf"),
        ("/typed/track.WAV?type=application/octet-stream", ".wav"),
        ("/typed/photo.jpeg?type=application/octet-stream", ".jpg"),
        ("/typed/run.sh?type=text/x-sh", ".bin"),
        ("/typed?type=application/octet-stream&name=/a.png", ".bin"),  # a query is no path
        # After a redirect the final URL's path decides.
        (f"/redirect?to={quote('/typed/song.mp3?type=application/octet-stream', safe='')}", ".mp3"),
    ],
)
def test_the_suffix_comes_from_the_content_type_then_the_url_path(
    lab: Lab, tmp_path: Path, path: str, suffix: str
) -> None:
    assert _get(lab, path, tmp_path).suffix == suffix


def test_redirects_are_followed_up_to_five(lab: Lab, tmp_path: Path) -> None:
    assert _get(lab, "/chain/4", tmp_path).read_bytes() == PNG  # 5 redirects
    with pytest.raises(BlockedURL, match="more than 5 redirects"):
        _get(lab, "/chain/5", tmp_path)
    with pytest.raises(BlockedURL, match="more than 2 redirects"):
        _get(lab, "/loop", tmp_path, max_redirects=2)
    assert lab.internal.connections == 0


def test_a_final_error_status_is_an_http_error(lab: Lab, tmp_path: Path) -> None:
    with pytest.raises(httpx.HTTPStatusError):
        _get(lab, "/status/404", tmp_path)
    assert _files(tmp_path) == []


def test_a_compressed_body_is_refused(lab: Lab, tmp_path: Path) -> None:
    with pytest.raises(BlockedURL, match="gzip"):
        _get(lab, "/gzip", tmp_path)


def test_a_declared_length_over_the_cap_is_refused_before_reading(lab: Lab, tmp_path: Path) -> None:
    with pytest.raises(TooLarge, match="announced"):
        _get(lab, "/big-declared", tmp_path, max_bytes=1024)
    assert _files(tmp_path) == []


def test_a_body_growing_past_the_cap_is_cut_and_leaves_no_file(lab: Lab, tmp_path: Path) -> None:
    total = 32 * 1024 * 1024
    with pytest.raises(TooLarge, match="larger than 262144 bytes"):
        _get(lab, f"/big-stream?total={total}", tmp_path, max_bytes=256 * 1024)
    assert _files(tmp_path) == []  # no partial file either
    assert wait_for(lab.public.state.stream_done.is_set)
    assert lab.public.state.streamed < total / 2  # the connection was dropped, not drained


def test_a_body_at_the_cap_is_kept(lab: Lab, tmp_path: Path) -> None:
    path = _get(lab, "/big-stream?total=262144", tmp_path, max_bytes=256 * 1024)
    assert path.stat().st_size == 256 * 1024


@pytest.mark.parametrize("path", ["/drip", "/drip-headers"])
def test_a_slow_drip_is_stopped_by_the_deadline(lab: Lab, tmp_path: Path, path: str) -> None:
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        _get(lab, path, tmp_path, deadline=0.6)
    assert time.monotonic() - started < 1.5
    assert _files(tmp_path) == []


def test_the_deadline_covers_every_redirect(lab: Lab, tmp_path: Path) -> None:
    drip = quote(f"http://cdn.test:{lab.port}/drip", safe="")
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        _get(lab, f"/redirect?to={drip}", tmp_path, deadline=0.6)
    assert time.monotonic() - started < 1.5


# --- briefs ---------------------------------------------------------------------------------


@pytest.fixture
def policy(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> DownloadPolicy:
    """The policy parse_brief uses, with the loopback stand-in as the public host."""
    policy = DownloadPolicy(resolve=lab.dns, allow=lab.allow, transport=lab.jail, deadline=2.0)
    monkeypatch.setattr(downloads, "DEFAULT_POLICY", policy)
    return policy


def test_brief_urls_are_downloaded_into_the_asset_cache_by_the_fetch_step(
    lab: Lab,
    policy: DownloadPolicy,
    brief_data: dict[str, Any],
    write_brief: Callable[[dict[str, Any]], Path],
    tmp_path: Path,
) -> None:
    base = f"http://cdn.test:{lab.port}"
    brief_data["product"]["photos"] = [f"{base}/photo.png?sig=abc", "photos/coffee.png"]
    brief_data["brand"]["logo"] = f"{base}/logo"
    brief_data["music"] = f"{base}/typed?type=audio/mpeg&body=ID3"
    cache = tmp_path / "cache" / "assets"
    brief = load_brief_fetching(write_brief(brief_data), cache)
    first = brief.product.photos[0]
    assert first.parent == cache and first.suffix == ".png" and first.read_bytes() == PNG
    assert brief.product.photos[1] == (tmp_path / "photos" / "coffee.png").resolve()
    assert brief.brand.logo == first  # the same bytes: one file
    assert brief.music is not None and brief.music.suffix == ".mp3"
    assert brief.music.read_bytes() == b"ID3"
    assert lab.internal.connections == 0


def test_a_brief_without_urls_touches_nothing(brief_data: dict[str, Any], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert fetch_brief_assets(brief_data, cache) is brief_data
    assert not cache.exists()


def test_fetch_brief_assets_leaves_its_input_unchanged(
    lab: Lab, policy: DownloadPolicy, brief_data: dict[str, Any], tmp_path: Path
) -> None:
    url = f"http://cdn.test:{lab.port}/photo.png"
    brief_data["product"]["photos"] = [url]
    out = fetch_brief_assets(brief_data, tmp_path)
    assert brief_data["product"]["photos"] == [url]
    assert Path(out["product"]["photos"][0]).read_bytes() == PNG


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("product.photos[1]", "http://internal.test:{p}/a.png?token=SECRET", "non-public"),
        ("brand.logo", "http://cdn.test:{p}/redirect?to=http://169.254.169.254/", "non-public"),
        ("brand.font", "http://cdn.test:{p}/status/403?token=SECRET", "answered 403"),
        ("music", "http://cdn.test:{p}/big-declared?token=SECRET", "over the cap"),
        ("brand.logo", "file:///etc/passwd", "only http and https"),
        ("music", "gopher://127.0.0.1:{p}/", "only http and https"),
        ("voice.file", "http://localhost:{p}/vo.wav", "non-public"),
    ],
)
def test_a_failed_brief_download_names_the_field_and_host_but_not_the_query(
    lab: Lab,
    policy: DownloadPolicy,
    brief_data: dict[str, Any],
    photo_dir: Path,
    field: str,
    value: str,
    message: str,
) -> None:
    url = value.format(p=lab.port)
    brief_data["product"]["photos"] = ["photos/coffee.png", "photos/chelsea.png"]
    if field == "product.photos[1]":
        brief_data["product"]["photos"][1] = url
    elif field == "music":
        brief_data["music"] = url
    elif field == "voice.file":
        brief_data["voice"] = {"enabled": True, "file": url}
    else:
        brief_data["brand"][field.removeprefix("brand.")] = url
    with pytest.raises(BriefError, match=message) as raised:
        fetch_brief_assets(brief_data, photo_dir.parent / "cache")
    assert raised.value.where == field
    assert "SECRET" not in str(raised.value)
    assert lab.internal.connections == 0
    assert lab.jail.violations == []


def test_parsing_a_brief_never_downloads_its_urls(
    lab: Lab, policy: DownloadPolicy, brief_data: dict[str, Any], photo_dir: Path
) -> None:
    brief_data["brand"]["logo"] = f"http://cdn.test:{lab.port}/logo"
    with pytest.raises(BriefError, match="is a URL: fetch") as raised:
        parse_brief(brief_data, base_dir=photo_dir.parent)
    assert raised.value.where == "brand.logo"
    assert lab.public.state.requests == [] and lab.jail.forwarded == []
    assert lab.internal.connections == 0


def test_a_resolver_that_hangs_is_stopped_by_the_deadline(tmp_path: Path) -> None:
    release = threading.Event()

    def hanging(host: str) -> list[str]:
        release.wait(5)
        return ["93.184.216.34"]

    started = time.monotonic()
    try:
        with pytest.raises(DeadlineExceeded, match=r"resolving slow\.test"):
            download(
                "https://slow.test/a.png",
                tmp_path,
                resolve=hanging,
                deadline=0.3,
                transport=httpx.MockTransport(lambda r: httpx.Response(599)),  # never the network
            )
    finally:
        release.set()
    assert time.monotonic() - started < 1.0


def test_a_transport_passed_in_is_used_but_not_closed(tmp_path: Path) -> None:
    class Recording(httpx.MockTransport):
        closed = False

        def close(self) -> None:
            self.closed = True

    transport = Recording(lambda r: httpx.Response(200, content=b"GIF89a"))
    path = download(
        "https://cdn.example.com/a.gif",
        tmp_path,
        resolve=lambda host: ["93.184.216.34"],
        transport=transport,
    )
    assert path.suffix == ".gif" and path.read_bytes() == b"GIF89a"
    assert not transport.closed
