"""Each format composed by its own container: ``compose_format.map`` over timelines whose files
travel through the blob store by content key, so four formats take about one format's time."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypedDict

from modal_app.transfer import fetch_all, put_once
from pipeline.media.ffmpeg import run_ffmpeg
from pipeline.media.graph import Output, build_args
from pipeline.storage import BlobStore
from pipeline.timeline import Timeline

__all__ = ["ComposeTask", "ModalComposer", "compose_timeline", "pack"]


class ComposeTask(TypedDict):
    timeline: dict[str, Any]  # a Timeline as JSON whose paths are names in ``files``/``folders``
    files: dict[str, str]  # name → blob key
    folders: dict[str, dict[str, str]]  # name → {file name in the folder → blob key}
    output: str  # the blob key the composed MP4 goes to
    grant: str
    api_url: str


def _paths(data: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """(holder, field) of every path in a timeline's JSON."""
    places = [
        (s["clip"], "image" if s["clip"]["kind"] == "still" else "path") for s in data["scenes"]
    ]
    places.append((data, "audio"))
    places += [(data, f) for f in ("subtitles", "fonts_dir") if data.get(f) is not None]
    return places


def pack(
    timeline: Timeline, store: BlobStore, prefix: str, *, output: str, grant: str, api_url: str
) -> ComposeTask:
    """The task for ``timeline``: each file it names uploaded once, by content."""
    data = timeline.model_dump(mode="json")
    files: dict[str, str] = {}
    folders: dict[str, dict[str, str]] = {}
    for n, (holder, field) in enumerate(_paths(data)):
        path, name = Path(holder[field]), f"f{n}"
        if path.is_dir():
            folders[name] = {p.name: put_once(store, p, prefix) for p in sorted(path.iterdir())}
        else:
            files[name] = put_once(store, path, prefix)
        holder[field] = name
    return ComposeTask(
        timeline=data, files=files, folders=folders, output=output, grant=grant, api_url=api_url
    )


def compose_timeline(task: ComposeTask, store: BlobStore) -> str:
    """Downloads the timeline's files, composes it with FFmpeg, stores the MP4; its key."""
    with tempfile.TemporaryDirectory(prefix="reelforge-compose-") as scratch:
        work = Path(scratch)
        local = fetch_all(store, task["files"], work / "files")
        for name, members in task["folders"].items():
            folder = work / "folders" / name
            for member, path in fetch_all(store, members, folder / ".fetched").items():
                path.rename(folder / Path(member).name)
            local[name] = folder
        data = task["timeline"]
        for holder, field in _paths(data):
            holder[field] = str(local[holder[field]])
        out = work / "composed.mp4"
        run_ffmpeg(build_args([Output(Timeline.model_validate(data), out)]), stage="compose")
        store.put(task["output"], out, content_type="video/mp4")
        return task["output"]


class ModalComposer:
    """The render service's Composer on Modal: one ``compose_format`` call per format, at once."""

    mode = "fan_out"

    def __init__(
        self,
        map_fn: Callable[[list[ComposeTask]], Iterable[str]],
        *,
        store: BlobStore,
        grant: str,
        api_url: str,
        prefix: str,
    ) -> None:
        self._map, self._store = map_fn, store
        self._grant, self._api_url, self._prefix = grant, api_url, prefix.rstrip("/")

    def compose(self, outputs: Sequence[Output], progress: Callable[[float], None]) -> None:
        tasks: list[ComposeTask] = []
        for out in outputs:
            spec = out.timeline.spec
            key = f"{self._prefix}/composed/{spec.format.value}-{spec.width}.mp4"
            tasks.append(
                pack(
                    out.timeline,
                    self._store,
                    f"{self._prefix}/media",
                    output=key,
                    grant=self._grant,
                    api_url=self._api_url,
                )
            )
        for done, (out, key) in enumerate(zip(outputs, self._map(tasks), strict=True), 1):
            self._store.get(key, out.path)
            progress(done / len(outputs))
