"""Storage key rules: relative POSIX paths of safe segments, nothing that could escape a root."""

from __future__ import annotations

import pytest

from pipeline.errors import BadInput
from pipeline.storage import MAX_KEY_LENGTH, validate_key
from pipeline.storage.port import MAX_SEGMENT_LENGTH


@pytest.mark.parametrize(
    "key",
    [
        "a",
        "renders/3f1c0d2e-9b7a-4c55-8d2e-1f0a9b8c7d6e/job_01/9x16.mp4",
        "_cache/ab/abcdef0123.wav",
        "briefs/u1/brief.v2.yaml",
        "x" * MAX_SEGMENT_LENGTH,
        "/".join(["a" * 100] * 5)[: MAX_KEY_LENGTH - 1] + "z",
        "a.",
        "UPPER/Case.MP4",
    ],
)
def test_valid_keys_are_returned_unchanged(key: str) -> None:
    assert len(key) <= MAX_KEY_LENGTH
    assert validate_key(key) == key


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "is empty"),
        ("/etc/passwd", "absolute"),
        ("//server/share", "absolute"),
        ("renders\\u\\x.mp4", "backslash"),
        ("..\\x", "backslash"),
        ("a//b", "empty segment"),
        ("a/", "empty segment"),
        ("../x", "'..' segment"),
        ("a/../../x", "'..' segment"),
        ("a/..", "'..' segment"),
        ("./a", "'.' segment"),
        ("a/./b", "'.' segment"),
        ("x" * (MAX_KEY_LENGTH + 1), "characters long"),
        ("a/" + "x" * (MAX_SEGMENT_LENGTH + 1), "longer than"),
        (".env", "must start with"),
        ("a/.tmp-123", "must start with"),
        ("-rf", "must start with"),
        ("C:/x", "must start with"),
        ("a/b c", "must start with"),
        ("a/%2e%2e/b", "must start with"),
        ("a/b?c", "must start with"),
        ("a/b#c", "must start with"),
        ("a/caffè.mp4", "must start with"),
        ("a/\u0430.mp4", "must start with"),  # Cyrillic a, a lookalike
        ("a\nb", "must start with"),
        ("a\x00b", "must start with"),
        ("~/x", "must start with"),
    ],
)
def test_invalid_keys_are_bad_input_naming_the_problem(key: str, problem: str) -> None:
    with pytest.raises(BadInput) as caught:
        validate_key(key)
    assert caught.value.where == "storage key"
    assert problem in caught.value.problem


@pytest.mark.parametrize("key", [None, b"renders/x.mp4", 42])
def test_non_string_keys_are_bad_input(key: object) -> None:
    with pytest.raises(BadInput, match="must be a string"):
        validate_key(key)  # type: ignore[arg-type]
