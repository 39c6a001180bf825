"""A render request and the files its brief names, as plain data: packed on the laptop, rendered
in a container through the same render service as ``reelforge render``."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict

from pipeline.render import Ports, RenderRequest, render

__all__ = ["BriefBundle", "pack_request", "render_bundle", "write_outputs"]


class BriefBundle(TypedDict):
    # RenderRequest.to_payload() with every file the brief names renamed to a key of ``files``
    payload: dict[str, Any]
    files: dict[str, bytes]


def pack_request(request: RenderRequest) -> BriefBundle:
    """Bundles a request with every file its brief names (``Brief.files``: photos, logo, font,
    music and the voice-over), each under ``files/NN-<name>``."""
    files: dict[str, bytes] = {}

    def add(field: str, source: Path) -> Path:
        name = f"files/{len(files):02d}-{source.name}"
        files[name] = source.read_bytes()
        return Path(name)

    packed = request.model_copy(update={"brief": request.brief.map_files(add)})
    return BriefBundle(payload=packed.to_payload(), files=files)


def render_bundle(
    bundle: BriefBundle, *, ports: Callable[[RenderRequest], Ports]
) -> dict[str, bytes]:
    """Renders a bundle in a scratch folder with the ports ``ports(request)`` builds; returns
    every output file by its relative path."""
    with tempfile.TemporaryDirectory(prefix="reelforge-") as scratch:
        root = Path(scratch)
        for name, content in bundle["files"].items():
            target = (root / name).resolve()
            if not target.is_relative_to(root.resolve() / "files"):
                raise ValueError(f"bundle file escapes its folder: {name}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        request = RenderRequest.from_payload(bundle["payload"], base_dir=root)
        result = render(request, ports=ports(request), out_root=root / "out")
        return {
            str(p.relative_to(result.out_dir)): p.read_bytes()
            for p in sorted(result.out_dir.rglob("*"))
            if p.is_file()
        }


def write_outputs(outputs: dict[str, bytes], dest: Path) -> list[Path]:
    """Writes rendered files under ``dest`` (names that would escape it are refused)."""
    root = dest.resolve()
    written = []
    for name, content in sorted(outputs.items()):
        target = (root / name).resolve()
        if not target.is_relative_to(root):
            raise ValueError(f"output name escapes {dest}: {name}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        written.append(target)
    return written
