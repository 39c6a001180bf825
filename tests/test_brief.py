from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline.brief import brief_hash, load_brief
from pipeline.errors import BriefError
from pipeline.formats import Format

WriteBrief = Callable[[dict[str, Any]], Path]


def test_valid_yaml_brief_resolves_photo_paths_beside_the_file(
    write_brief: WriteBrief, brief_data: dict[str, Any], tmp_path: Path
) -> None:
    brief = load_brief(write_brief(brief_data))
    assert brief.product.photos == ((tmp_path / "photos" / "coffee.png").resolve(),)
    assert brief.formats == (Format.V9X16,)
    assert brief.options == 2
    assert brief.brand.language == "en"


def test_json_brief_is_accepted(
    tmp_path: Path, photo_dir: Path, brief_data: dict[str, Any]
) -> None:
    path = tmp_path / "brief.json"
    path.write_text(json.dumps(brief_data))
    assert load_brief(path).product.sku == "AUR-ESP-01"


@pytest.mark.parametrize(
    ("mutate", "where", "problem"),
    [
        (lambda d: d.update(colour="red"), "colour", "unknown field"),
        (lambda d: d["product"].update(colour="red"), "product.colour", "unknown field"),
        (lambda d: d["product"].pop("sku"), "product.sku", "required field is missing"),
        (lambda d: d.update(duration=5), "duration", "greater than or equal to 6"),
        (lambda d: d.update(duration=61), "duration", "less than or equal to 60"),
        (lambda d: d.update(formats=["9x16", "3x2"]), "formats[1]", "9x16"),
        (lambda d: d["brand"].update(palette=["#12345"]), "brand.palette", "not a #rrggbb colour"),
        (
            lambda d: d["product"].update(photos=["photos/missing.png"]),
            "product.photos[0]",
            "file not found",
        ),
        (lambda d: d["product"].update(currency="euro"), "product.currency", "pattern"),
        (lambda d: d["brand"].update(locale="english"), "brand.locale", "must look like"),
        (lambda d: d.update(options=0), "options", "greater than or equal to 1"),
    ],
)
def test_invalid_brief_names_the_field(
    write_brief: WriteBrief,
    brief_data: dict[str, Any],
    mutate: Callable[[dict[str, Any]], None],
    where: str,
    problem: str,
) -> None:
    mutate(brief_data)
    with pytest.raises(BriefError) as info:
        load_brief(write_brief(brief_data))
    assert info.value.where == where
    assert problem in info.value.problem


def test_empty_photo_file_is_named(
    write_brief: WriteBrief, brief_data: dict[str, Any], photo_dir: Path
) -> None:
    (photo_dir / "empty.png").write_bytes(b"")
    brief_data["product"]["photos"] = ["photos/coffee.png", "photos/empty.png"]
    with pytest.raises(BriefError, match=r"product\.photos\[1\]: file is empty"):
        load_brief(write_brief(brief_data))


def test_unparseable_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "brief.yaml"
    path.write_text("product: [unclosed\n")
    with pytest.raises(BriefError, match="cannot parse"):
        load_brief(path)


def test_hash_changes_with_photo_bytes(
    write_brief: WriteBrief, brief_data: dict[str, Any], photo_dir: Path
) -> None:
    first = brief_hash(load_brief(write_brief(brief_data)))
    assert first == brief_hash(load_brief(write_brief(brief_data)))
    (photo_dir / "coffee.png").write_bytes((photo_dir / "chelsea.png").read_bytes())
    assert brief_hash(load_brief(write_brief(brief_data))) != first
