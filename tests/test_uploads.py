"""What an upload is, judged by its bytes: every accepted format passes with the suffix it is
stored under, and the bad corpus (bombs, playlists in disguise, truncations, lying names) is
refused naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import BadInput
from pipeline.uploads import check_upload, safe_name
from tests.upload_corpus import bad_files, good_files


@pytest.mark.parametrize(
    ("kind", "name", "data", "suffix"), good_files(), ids=lambda v: str(v)[:20]
)
def test_every_accepted_format_passes_with_its_stored_suffix(
    tmp_path: Path, kind: str, name: str, data: bytes, suffix: str
) -> None:
    path = tmp_path / "upload.bin"
    path.write_bytes(data)

    checked = check_upload(path, kind, name=name)

    assert checked.extension == suffix
    assert path.read_bytes() == data  # checked in place, unchanged


@pytest.mark.parametrize(
    ("case", "kind", "name", "data", "field", "words"), bad_files(), ids=lambda v: str(v)[:24]
)
def test_the_bad_corpus_is_refused_naming_the_field(
    tmp_path: Path, case: str, kind: str, name: str, data: bytes, field: str, words: str
) -> None:
    path = tmp_path / "upload.bin"
    path.write_bytes(data)

    with pytest.raises(BadInput) as info:
        check_upload(path, kind, name=name)

    assert info.value.where == field
    assert words in info.value.problem, info.value.problem
    assert str(tmp_path) not in info.value.problem  # no server path in what the user reads


def test_a_playlist_is_refused_before_ffmpeg_opens_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import av

    opened: list[str] = []
    monkeypatch.setattr(av, "open", lambda *a, **k: opened.append(str(a[0])))
    path = tmp_path / "song.wav"
    path.write_bytes(b"#EXTM3U\nfile:///etc/passwd\n")

    with pytest.raises(BadInput, match="refers to other files"):
        check_upload(path, "music", name="song.wav")

    assert opened == []


@pytest.mark.parametrize(
    ("given", "kept"),
    [("C:\\Users\\me\\cup.png", "cup.png"), ("../../etc/passwd", "passwd"), ("a\x00b\n.png", "ab.png"),
     ("", None), ("/", None)],
)  # fmt: skip
def test_a_file_name_is_kept_as_its_last_segment_without_control_characters(
    given: str, kept: str | None
) -> None:
    assert safe_name(given) == kept
