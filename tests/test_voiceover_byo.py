"""A user's own voice-over (``voice.file``): transcribed for the captions, played as the voice."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from pipeline.brief import Brief, brief_hash, load_brief
from pipeline.checkpoints import Checkpoints
from pipeline.errors import BadInput, BriefError
from pipeline.media.loudness import measure_loudness
from pipeline.media.probe import probe
from pipeline.palette import FakePalette
from pipeline.render import Ports
from pipeline.script import OfflineScriptWriter
from pipeline.script.model import Script
from pipeline.templates.registry import get_template
from pipeline.voice import EspeakVoice, FakeTranscriber, WordTiming
from pipeline.voice.wav import wav_duration, write_wav
from pipeline.voiceover import transcribe_voiceover, voice_cues, voice_path
from tests.rendering import render_ad

WriteBrief = Callable[[dict[str, Any]], Path]


def _tone(path: Path, seconds: float, rate: int = 16000) -> Path:
    t = np.arange(round(seconds * rate)) / rate
    write_wav(path, (0.2 * 32767 * np.sin(2 * np.pi * 200 * t)).astype(np.int16), rate)
    return path


def _plan(path: Path) -> tuple[Brief, Script, list[float]]:
    brief = load_brief(path)
    script = OfflineScriptWriter().write(
        brief, get_template(brief.template), FakePalette().extract([], locale="en"), n=1
    )[0]
    starts, t = [], 0.0
    for scene in script.scenes:
        starts.append(round(t, 4))
        t += scene.duration
    return brief, script, starts


@pytest.fixture
def own_voice(photo_dir: Path) -> Path:
    return _tone(photo_dir / "voiceover.wav", 7.5)


@pytest.fixture
def byo(
    write_brief: WriteBrief, brief_data: dict[str, Any], own_voice: Path
) -> tuple[Brief, Script, list[float]]:
    brief_data["voice"] = {"enabled": True, "file": "photos/voiceover.wav"}
    return _plan(write_brief(brief_data))


# -- the brief ------------------------------------------------------------------------------


def test_voice_file_resolves_beside_the_brief_and_counts_in_its_hash(
    byo: tuple[Brief, Script, list[float]], own_voice: Path
) -> None:
    brief = byo[0]
    assert brief.voice.file == own_voice.resolve()
    before = brief_hash(brief)
    _tone(own_voice, 6.0)
    assert brief_hash(brief) != before


def test_a_missing_voice_file_names_the_field(
    write_brief: WriteBrief, brief_data: dict[str, Any]
) -> None:
    brief_data["voice"] = {"file": "nowhere.mp3"}
    with pytest.raises(BriefError) as info:
        load_brief(write_brief(brief_data))
    assert info.value.where == "voice.file" and "not found" in info.value.problem


# -- words to scenes ------------------------------------------------------------------------


def test_words_go_to_the_scene_their_middle_falls_in(
    byo: tuple[Brief, Script, list[float]], tmp_path: Path
) -> None:
    brief, script, starts = byo
    assert starts[:3] == [0.0, 1.82, 3.34]
    words = [
        WordTiming(text="Meet", start=0.2, end=0.6),
        WordTiming(text="Aurora,", start=0.7, end=1.3),
        WordTiming(text="double-walled", start=1.6, end=2.2),  # middle 1.9: scene 1
        WordTiming(text="porcelain.", start=2.3, end=3.0),
        WordTiming(text="Hot!", start=3.5, end=3.9),
    ]
    transcriber = FakeTranscriber(words)
    lines = transcribe_voiceover(transcriber, script, starts, brief, tmp_path)

    assert transcriber.calls == [(brief.voice.file, "en")]
    assert [(line.scene, line.text) for line in lines] == [
        (0, "Meet Aurora,"),
        (1, "double-walled porcelain."),
        (2, "Hot!"),
    ]
    assert [w for line in lines for w in line.words] == words  # the file plays from 0
    assert lines[1].start == 1.6 and lines[0].voice == "fake-transcriber"
    # Each scene's stretch of the file is its voice, for pictures that speak (lip sync).
    for line in lines:
        cut = voice_path(tmp_path, line.scene)
        end = starts[line.scene] + script.scenes[line.scene].duration
        assert wav_duration(cut) == pytest.approx(end - line.start, abs=0.01)


def test_the_soundtrack_plays_the_users_file_once_from_the_start(
    byo: tuple[Brief, Script, list[float]], tmp_path: Path
) -> None:
    brief, script, starts = byo
    lines = transcribe_voiceover(
        FakeTranscriber([WordTiming(text="Hi", start=1.0, end=1.4)]),
        script,
        starts,
        brief,
        tmp_path,
    )
    cues = voice_cues(brief, lines, tmp_path)
    assert [(c.path, c.start) for c in cues] == [(brief.voice.file, 0.0)]


def test_without_a_transcriber_the_job_says_what_to_set(
    byo: tuple[Brief, Script, list[float]], tmp_path: Path
) -> None:
    brief, script, starts = byo
    with pytest.raises(BadInput) as info:
        transcribe_voiceover(None, script, starts, brief, tmp_path)
    assert info.value.where == "voice.file" and "ELEVENLABS_API_KEY" in info.value.problem


def test_a_voice_over_longer_than_the_ad_is_refused(
    byo: tuple[Brief, Script, list[float]], tmp_path: Path
) -> None:
    brief, script, starts = byo
    late = FakeTranscriber([WordTiming(text="late", start=7.9, end=8.6)])
    with pytest.raises(BadInput, match=r"speaks until 8\.6s but the ad lasts 8\.0s"):
        transcribe_voiceover(late, script, starts, brief, tmp_path)
    # A word ending in the last breath past the end is trimmed, not refused.
    tail = FakeTranscriber([WordTiming(text="now", start=7.6, end=8.1)])
    (line,) = transcribe_voiceover(tail, script, starts, brief, tmp_path)
    assert line.words[-1].end == 8.0


def test_a_disabled_voice_ignores_the_file(
    write_brief: WriteBrief, brief_data: dict[str, Any], own_voice: Path, tmp_path: Path
) -> None:
    brief_data["voice"] = {"enabled": False, "file": "photos/voiceover.wav"}
    brief, script, starts = _plan(write_brief(brief_data))
    transcriber = FakeTranscriber([WordTiming(text="Hi", start=1.0, end=1.4)])
    assert transcribe_voiceover(transcriber, script, starts, brief, tmp_path) == ()
    assert not transcriber.calls


def test_a_resumed_job_reuses_the_transcript(
    byo: tuple[Brief, Script, list[float]], tmp_path: Path
) -> None:
    brief, script, starts = byo
    transcriber = FakeTranscriber([WordTiming(text="Hi", start=1.0, end=1.4)])
    first = transcribe_voiceover(
        transcriber, script, starts, brief, tmp_path, checkpoints=Checkpoints(tmp_path)
    )
    resumed = Checkpoints(tmp_path)
    again = transcribe_voiceover(transcriber, script, starts, brief, tmp_path, checkpoints=resumed)
    assert again == first and len(transcriber.calls) == 1
    assert resumed.reused == ["voice:transcript"]


def test_a_render_without_a_transcriber_fails_before_paid_work(
    write_brief: WriteBrief, brief_data: dict[str, Any], own_voice: Path, tmp_path: Path
) -> None:
    brief_data["voice"] = {"file": "photos/voiceover.wav"}
    with pytest.raises(BadInput, match="needs a transcriber"):
        render_ad(write_brief(brief_data), tmp_path / "out", preview=True)
    assert not (tmp_path / "out").exists()


# -- a real render --------------------------------------------------------------------------

LEAD_IN = 1.0  # seconds of silence before the user starts speaking


def _rms_between(path: Path, start: float, end: float) -> float:
    samples: list[np.ndarray] = []
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.audio[0]):
            if frame.time is None:
                continue
            t = frame.time + np.arange(frame.samples) / frame.sample_rate
            keep = (t >= start) & (t < end)
            if keep.any():
                samples.append(frame.to_ndarray().mean(axis=0)[keep])
    pcm = np.concatenate(samples)
    return float(np.sqrt(np.mean(pcm**2)))


@pytest.mark.integration
def test_a_render_uses_the_users_voice_over_and_captions_its_words(
    tmp_path: Path, write_brief: WriteBrief, brief_data: dict[str, Any], photo_dir: Path
) -> None:
    # The user's file: a second of silence, then a line spoken by the offline voice, then quiet.
    spoken = EspeakVoice().synthesize(
        "Meet the Aurora cup. It keeps your espresso hot.",
        locale="en",
        out=tmp_path / "line.wav",
    )
    with av.open(str(spoken.path)) as c:
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])
    silence = np.zeros(round(LEAD_IN * spoken.sample_rate), dtype=np.int16)
    write_wav(photo_dir / "me.wav", np.concatenate([silence, pcm]), spoken.sample_rate)
    heard = [
        WordTiming(text=w.text, start=w.start + LEAD_IN, end=w.end + LEAD_IN) for w in spoken.words
    ]
    speech_end = heard[-1].end
    assert speech_end < 6.0

    brief_data["voice"] = {"enabled": True, "file": "photos/me.wav"}
    transcriber = FakeTranscriber(heard)
    work = tmp_path / "work"
    result = render_ad(
        write_brief(brief_data),
        tmp_path / "out",
        preview=True,
        work_dir=work,
        ports=Ports(transcriber=transcriber),
    )

    assert len(transcriber.calls) == 1
    manifest = json.loads((result.out_dir / "manifest.json").read_text())
    lines = manifest["voice"]
    assert [w["text"] for line in lines for w in line["words"]] == [w.text for w in heard]
    assert {line["voice"] for line in lines} == {"fake-transcriber"}
    assert lines[0]["start"] == pytest.approx(heard[0].start, abs=1e-3)
    captions = (work / "captions-9x16.ass").read_text(encoding="utf-8").lower()
    for word in heard:
        assert re.sub(r"[^\w]", "", word.text.lower()) in captions

    video = result.out_dir / "9x16.mp4"
    p = probe(video)
    assert p.audio_codec == "aac" and abs(p.duration - 8.0) <= 0.1
    assert abs(measure_loudness(video).integrated + 14) <= 1.0
    # The voice is the user's: quiet during their lead-in and after their last word, loud while
    # they speak (a synthesized voice would start 0.15 s into every scene).
    voiced = _rms_between(video, LEAD_IN + 0.2, speech_end - 0.2)
    assert _rms_between(video, 0.0, LEAD_IN - 0.2) < voiced / 20
    assert _rms_between(video, speech_end + 0.4, 7.8) < voiced / 20
