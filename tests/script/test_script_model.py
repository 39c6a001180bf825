"""Script and Scene validation rules."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipeline.script import Scene, SceneKind, Script


def _scene(index: int, kind: SceneKind, photo: int | None) -> Scene:
    return Scene(
        index=index,
        slot="s",
        kind=kind,
        photo=photo,
        on_screen_text="Hi",
        voiceover="",
        visual="A bottle",
        duration=2.005,
    )


def _script(*scenes: Scene) -> Script:
    return Script(
        option=1, template="t", locale="en", angle="benefit-led", hook="Hi", cta="Go", scenes=scenes
    )


def test_duration_is_rounded_to_centiseconds() -> None:
    script = _script(_scene(0, SceneKind.PHOTO, 0), _scene(1, SceneKind.END_CARD, None))
    assert script.duration == 4.01


def test_photo_scene_needs_photo() -> None:
    with pytest.raises(ValidationError, match="needs a photo"):
        _scene(0, SceneKind.PHOTO, None)


def test_text_card_takes_no_photo() -> None:
    with pytest.raises(ValidationError, match="only photo scenes"):
        _scene(0, SceneKind.TEXT_CARD, 1)


def test_last_scene_is_end_card() -> None:
    with pytest.raises(ValidationError, match="end card"):
        _script(_scene(0, SceneKind.PHOTO, 0), _scene(1, SceneKind.PHOTO, 0))


def test_indices_in_order() -> None:
    with pytest.raises(ValidationError, match="index"):
        _script(_scene(1, SceneKind.PHOTO, 0), _scene(0, SceneKind.END_CARD, None))
