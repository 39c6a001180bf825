"""A brief and the files it names, as plain data: packed on the laptop, rendered in a container."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, TypedDict

import yaml

from pipeline.brief import load_brief, parse_brief
from pipeline.formats import parse_formats
from pipeline.render import RenderOptions, render_brief

__all__ = ["BriefBundle", "pack_brief", "render_bundle", "write_outputs"]


class BriefBundle(TypedDict):
    data: dict[str, Any]  # the brief as written, its file fields renamed to keys of ``files``
    files: dict[str, bytes]


def pack_brief(path: Path) -> BriefBundle:
    """Validates the brief at ``path`` and bundles it with its photos, logo, font and music."""
    brief = load_brief(path)  # validates and resolves every file the brief names
    text = path.read_text(encoding="utf-8-sig")
    data: dict[str, Any] = (
        json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    )
    files: dict[str, bytes] = {}

    def add(source: Path) -> str:
        name = f"files/{len(files):02d}-{source.name}"
        files[name] = source.read_bytes()
        return name

    data["product"]["photos"] = [add(p) for p in brief.product.photos]
    for key in ("logo", "font"):
        value = getattr(brief.brand, key)
        if value is not None:
            data["brand"][key] = add(value)
    if brief.music is not None:
        data["music"] = add(brief.music)
    return BriefBundle(data=data, files=files)


def render_bundle(
    bundle: BriefBundle, *, formats: str = "", preview: bool = False
) -> dict[str, bytes]:
    """Renders a bundle in a scratch folder; returns every output file by its relative path."""
    with tempfile.TemporaryDirectory(prefix="reelforge-") as scratch:
        root = Path(scratch)
        for name, content in bundle["files"].items():
            target = (root / name).resolve()
            if not target.is_relative_to(root.resolve() / "files"):
                raise ValueError(f"bundle file escapes its folder: {name}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        brief = parse_brief(bundle["data"], base_dir=root)
        options = RenderOptions(formats=tuple(parse_formats(formats)) or None, preview=preview)
        result = render_brief(brief, root / "out", options=options)
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
