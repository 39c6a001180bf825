"""The media desk: where the API has a tenant's media looked at. An uploaded file is checked
as its kind (images decoded, fonts loaded, audio demuxed and decoded), an https URL a brief
names is fetched, a brief's script options are written (its photos decoded for the palette,
the writer called with the provider keys).

All three run untrusted bytes through decoders or reach addresses a tenant chose, so where
they run is a decision of the deployment, not of the API: :class:`LocalMediaDesk` does them in
the API's own process (``reelforge serve``, tests), and on Modal they go to functions that hold
neither the database password nor the storage key (``modal_app/media_desk.py``). The API keeps
everything else: what is stored, recorded and shown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from pipeline.api.brief_files import BriefFiles
from pipeline.brief import Brief
from pipeline.download import DEFAULT_POLICY, DownloadPolicy, fetch_https
from pipeline.render import RenderRequest, write_scripts
from pipeline.script import Script
from pipeline.settings import Settings
from pipeline.uploads import Checked, check_upload
from pipeline.wiring import PortsFactory, local_runtime, ports_factory

__all__ = ["LocalMediaDesk", "MediaDesk"]


class MediaDesk(Protocol):
    """What the API hands to the media desk; each problem is a BadInput (BriefError for a
    brief's field) naming the field, exactly as the API shows it."""

    def check(self, path: Path, kind: str, *, name: str | None, field: str) -> Checked:
        """What the file at ``path`` is, if it is acceptable as ``kind``; ``name`` is the
        user's name for it (its suffix must not contradict the bytes), ``field`` the one a
        problem names. See :func:`pipeline.uploads.check_upload`."""
        ...

    def fetch(self, url: str, dest_dir: Path, *, field: str, max_bytes: int) -> Path:
        """The https ``url`` a brief's ``field`` names, downloaded SSRF-safe under
        ``max_bytes`` into a new file in ``dest_dir``; BriefError naming ``field`` if it
        cannot be (see :func:`pipeline.download.fetch_https`)."""
        ...

    def write_scripts(self, brief: Brief, files: BriefFiles) -> tuple[Script, ...]:
        """``brief``'s script options (its files named as the user named them, resolved
        through ``files``), written as a render writes them."""
        ...


@dataclass(frozen=True)
class LocalMediaDesk:
    """The media desk in the API's own process: ``reelforge serve`` and the default of
    ``create_app``. ``ports`` writes the scripts (the composition root's by default),
    ``downloads`` fetches the URLs (the SSRF-safe default; tests replace its seams)."""

    settings: Settings
    ports: PortsFactory | None = None
    downloads: DownloadPolicy = DEFAULT_POLICY

    def check(self, path: Path, kind: str, *, name: str | None, field: str) -> Checked:
        return check_upload(path, kind, name=name, field=field)

    def fetch(self, url: str, dest_dir: Path, *, field: str, max_bytes: int) -> Path:
        policy = replace(self.downloads, max_bytes=max_bytes)
        return fetch_https(url, dest_dir, field=field, policy=policy)

    def write_scripts(self, brief: Brief, files: BriefFiles) -> tuple[Script, ...]:
        local = brief.map_files(files)
        build = self.ports or ports_factory(self.settings)
        ports = build(RenderRequest(brief=local), local_runtime(self.settings))
        return write_scripts(local, ports=ports, shown=brief).scripts
