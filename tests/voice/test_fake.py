from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import BadInput
from pipeline.voice import FakeVoice, VoiceSynth, wav_duration

from .audio import read_pcm, rms


def test_each_word_gets_a_fixed_slot(tmp_path: Path) -> None:
    voice: VoiceSynth = FakeVoice()
    out = tmp_path / "fake.wav"
    speech = voice.synthesize("Buy one, get  one free!", locale="it-IT", out=out)
    assert [w.text for w in speech.words] == ["Buy", "one,", "get", "one", "free!"]
    for i, word in enumerate(speech.words):
        assert word.start == pytest.approx(i * 0.35, abs=1e-4)
        assert word.end == pytest.approx(i * 0.35 + 0.3, abs=1e-4)
    assert speech.duration == pytest.approx(5 * 0.35 - 0.05, abs=1e-4)
    assert speech.voice == "fake:it"
    assert speech.sample_rate == 22050
    assert wav_duration(out) == pytest.approx(speech.duration)
    samples, rate = read_pcm(out)
    assert rms(samples, rate, 0.0, 0.3) > 500  # the tone
    assert rms(samples, rate, 0.3, 0.35) == 0  # the gap
    assert list(tmp_path.iterdir()) == [out]


def test_is_deterministic(tmp_path: Path) -> None:
    first = FakeVoice().synthesize("same words", locale="en", out=tmp_path / "a.wav")
    second = FakeVoice().synthesize("same words", locale="en", out=tmp_path / "b.wav")
    assert first.words == second.words
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()


def test_rate_and_voice(tmp_path: Path) -> None:
    voice = FakeVoice()
    slow = voice.synthesize("one two three", locale="en", out=tmp_path / "s.wav", rate=100)
    fast = voice.synthesize("one two three", locale="en", out=tmp_path / "f.wav", rate=350)
    assert fast.duration < slow.duration
    named = voice.synthesize("hi", locale="xx", voice="anything", out=tmp_path / "n.wav")
    assert named.voice == "fake:anything"


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"text": "", "locale": "en"}, "voice.text"),
        ({"text": "hi", "locale": "xx"}, "brand.locale"),
        ({"text": "hi", "locale": "en", "voice": ""}, "voice.name"),
        ({"text": "hi", "locale": "en", "rate": 5}, "voice.rate"),
    ],
)
def test_rejects_bad_input_like_espeak(
    tmp_path: Path, kwargs: dict[str, str | int], where: str
) -> None:
    with pytest.raises(BadInput) as raised:
        FakeVoice().synthesize(out=tmp_path / "x.wav", **kwargs)  # type: ignore[arg-type]
    assert raised.value.where == where
    assert list(tmp_path.iterdir()) == []
