"""Voice lines are placed on the ad's clock and never spill into the next scene."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline.brief import load_brief
from pipeline.errors import BadInput
from pipeline.palette import FakePalette
from pipeline.script import OfflineScriptWriter
from pipeline.templates.registry import get_template
from pipeline.voice import FakeVoice
from pipeline.voiceover import VOICE_LEAD, speak_script

WriteBrief = Callable[[dict[str, Any]], Path]


def _script(path: Path):  # type: ignore[no-untyped-def]
    brief = load_brief(path)
    template = get_template(brief.template)
    script = OfflineScriptWriter().write(
        brief, template, FakePalette().extract([], locale="en"), n=1
    )[0]
    starts, t = [], 0.0
    for scene in script.scenes:
        starts.append(t)
        t += scene.duration
    return brief, script, starts


def test_words_are_shifted_onto_the_ad_clock(
    tmp_path: Path, write_brief: WriteBrief, brief_data: dict[str, Any]
) -> None:
    brief, script, starts = _script(write_brief(brief_data))
    seen: list[float] = []
    lines = speak_script(
        FakeVoice(word_seconds=0.1, gap_seconds=0.02), script, starts, brief, tmp_path, seen.append
    )
    assert lines and seen[-1] == 1.0
    for line in lines:
        scene_start = starts[line.scene]
        assert line.start == pytest.approx(scene_start + VOICE_LEAD)
        assert line.words[0].start == pytest.approx(line.start, abs=1e-3)
        next_start = starts[line.scene + 1] if line.scene + 1 < len(starts) else script.duration
        assert line.words[-1].end <= next_start


def test_voice_disabled_gives_no_lines(
    tmp_path: Path, write_brief: WriteBrief, brief_data: dict[str, Any]
) -> None:
    brief_data["voice"] = {"enabled": False}
    brief, script, starts = _script(write_brief(brief_data))
    assert speak_script(FakeVoice(), script, starts, brief, tmp_path) == ()


def test_a_line_that_cannot_fit_its_scene_is_bad_input(
    tmp_path: Path, write_brief: WriteBrief, brief_data: dict[str, Any]
) -> None:
    brief, script, starts = _script(write_brief(brief_data))
    with pytest.raises(BadInput, match=r"template: scene 1 .* voice-over needs"):
        speak_script(FakeVoice(word_seconds=3.0), script, starts, brief, tmp_path)


class _CountingVoice(FakeVoice):
    """A FakeVoice that takes its time and counts how many lines it speaks at once."""

    def __init__(self, *, concurrent: bool) -> None:
        super().__init__(word_seconds=0.1, gap_seconds=0.02)
        self.concurrent = concurrent
        self.active = 0
        self.most = 0
        self._lock = threading.Lock()

    def synthesize(self, text: str, **kwargs: Any) -> Any:
        with self._lock:
            self.active += 1
            self.most = max(self.most, self.active)
        time.sleep(0.05)
        try:
            return super().synthesize(text, **kwargs)
        finally:
            with self._lock:
                self.active -= 1


@pytest.mark.parametrize(("concurrent", "most"), [(True, 2), (False, 1)])
def test_a_network_voice_speaks_its_lines_at_once_and_keeps_their_order(
    tmp_path: Path, write_brief: WriteBrief, brief_data: dict[str, Any], concurrent: bool, most: int
) -> None:
    brief, script, starts = _script(write_brief(brief_data))
    voice = _CountingVoice(concurrent=concurrent)
    lines = speak_script(voice, script, starts, brief, tmp_path)
    assert [line.scene for line in lines] == sorted(line.scene for line in lines)
    assert [line.text for line in lines] == [
        s.voiceover for s in script.scenes if s.voiceover.strip()
    ]
    if concurrent:
        assert voice.most >= most
    else:
        assert voice.most == 1  # eSpeak-like engines: one line at a time


class _RecordingVoice(FakeVoice):
    """A FakeVoice that keeps the texts it was given."""

    def __init__(self) -> None:
        super().__init__(word_seconds=0.1, gap_seconds=0.02)
        self.said: list[str] = []

    def synthesize(self, text: str, **kwargs: Any) -> Any:
        self.said.append(text)
        return super().synthesize(text, **kwargs)


@pytest.mark.parametrize(
    ("locale", "line", "said"),
    [
        ("en", "Now $24.90 🎉", "Now twenty-four dollars and ninety cents"),
        ("it-IT", "Ora 24,90 € 🎉", "Ora ventiquattro euro e novanta"),
    ],
)
def test_a_line_is_said_normalised_and_captioned_as_written(
    tmp_path: Path,
    write_brief: WriteBrief,
    brief_data: dict[str, Any],
    locale: str,
    line: str,
    said: str,
) -> None:
    brief_data["brand"]["locale"] = locale
    brief, script, starts = _script(write_brief(brief_data))
    scenes = list(script.scenes)
    scenes[0] = scenes[0].model_copy(update={"voiceover": line})
    scenes[1] = scenes[1].model_copy(update={"voiceover": "🔥 ✨ …"})  # nothing to say: silent
    script = script.model_copy(update={"scenes": tuple(scenes)})
    voice = _RecordingVoice()
    lines = speak_script(voice, script, starts, brief, tmp_path)
    assert said in voice.said and "🔥" not in " ".join(voice.said)
    first = lines[0]
    assert (first.scene, first.text, first.spoken, first.engine) == (0, line, said, "fake")
    assert 1 not in [v.scene for v in lines]
    # The price is one caption word, lit from "twenty" to "cents"; the emoji rides with it.
    head, *rest = line.split()
    assert [w.text for w in first.words] == [head, " ".join(rest)]
    price, n = first.words[1], len(said.split()) - 1  # the price's spoken words
    assert price.end - price.start == pytest.approx(0.1 * n + 0.02 * (n - 1), abs=1e-3)
