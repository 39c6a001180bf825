"""The neural English voice (hibari) and the offline voice that picks it or eSpeak NG."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pipeline.errors import BadInput
from pipeline.voice import EspeakVoice, NeuralVoice, OfflineVoice, Speech
from pipeline.voice.hibari_model import hibari_model

from .audio import assert_valid_speech, read_pcm, rms

EN = "Fresh coffee beans, roasted today and delivered to your door in two days!"


@pytest.fixture(scope="module")
def voice() -> NeuralVoice:
    return NeuralVoice()


def assert_valid(speech: Speech, text: str, out: Path) -> None:
    assert_valid_speech(speech, text, out, rate=24000)


def test_speaks_english_with_the_bundled_voice(voice: NeuralVoice, tmp_path: Path) -> None:
    out = tmp_path / "line.wav"
    speech = voice.synthesize(EN, locale="en-US", out=out)
    assert_valid(speech, EN, out)
    assert (speech.engine, speech.voice) == ("hibari", "heart")


def test_the_model_returns_its_durations_and_loads_once() -> None:
    model = hibari_model("heart")
    assert hibari_model("heart") is model
    ids = [0, *(model.vocab[c] for c in "həlˈO" if c in model.vocab), 0]
    import numpy as np

    acoustics = model.run(ids, 1.0, np.random.default_rng(0))
    assert acoustics.units.shape == (len(ids),) and acoustics.units.min() >= 1
    assert len(acoustics.audio) == pytest.approx(int(acoustics.units.sum()) * 600, abs=600)


def test_a_pause_is_a_silent_gap_between_words(voice: NeuralVoice, tmp_path: Path) -> None:
    speech = voice.synthesize("Hot coffee. Cold brew.", locale="en", out=tmp_path / "p.wav")
    coffee, cold = speech.words[1], speech.words[2]
    assert cold.start - coffee.end >= 0.15
    pcm, rate = read_pcm(speech.path)
    assert rms(pcm, rate, coffee.end + 0.05, cold.start - 0.05) < 0.1 * rms(
        pcm, rate, coffee.start, coffee.end
    )


def test_same_line_same_audio_and_faster_rate_is_shorter(
    voice: NeuralVoice, tmp_path: Path
) -> None:
    a = voice.synthesize(EN, locale="en", out=tmp_path / "a.wav")
    b = voice.synthesize(EN, locale="en", out=tmp_path / "b.wav")
    assert a.path.read_bytes() == b.path.read_bytes() and a.words == b.words
    fast = voice.synthesize(EN, locale="en", out=tmp_path / "f.wav", rate=240)
    assert fast.duration < 0.85 * a.duration


def test_a_sentence_longer_than_one_model_run_is_split_between_words(
    voice: NeuralVoice, tmp_path: Path
) -> None:
    text = " ".join(["Our beans are roasted slowly, packed by hand and shipped fresh"] * 8) + "."
    speech = voice.synthesize(text, locale="en", out=tmp_path / "long.wav")
    assert_valid(speech, text, tmp_path / "long.wav")


@pytest.mark.parametrize(
    ("locale", "name", "field"),
    [("it", None, "brand.locale"), ("en", "bella", "voice.name"), ("en", " ", "voice.name")],
)
def test_bad_input_is_rejected_and_writes_nothing(
    voice: NeuralVoice, tmp_path: Path, locale: str, name: str | None, field: str
) -> None:
    out = tmp_path / "x.wav"
    with pytest.raises(BadInput) as raised:
        voice.synthesize(EN, locale=locale, out=out, voice=name)
    assert raised.value.where == field
    assert not out.exists()


def test_concurrent_lines_do_not_mix(voice: NeuralVoice, tmp_path: Path) -> None:
    texts = ["Hot coffee now.", "Cold brew all summer long.", "Tea for two."] * 2
    alone = [
        voice.synthesize(t, locale="en", out=tmp_path / f"s{i}.wav") for i, t in enumerate(texts)
    ]
    with ThreadPoolExecutor(4) as pool:
        together = list(
            pool.map(
                lambda it: voice.synthesize(it[1], locale="en", out=tmp_path / f"c{it[0]}.wav"),
                enumerate(texts),
            )
        )
    for a, b in zip(alone, together, strict=True):
        assert a.words == b.words and a.path.read_bytes() == b.path.read_bytes()


@pytest.mark.parametrize(
    ("locale", "name", "engine"),
    [
        ("en", None, NeuralVoice),
        ("en-GB", "heart", NeuralVoice),
        ("en-US", "en-us+f3", EspeakVoice),  # an eSpeak voice by name
        ("it-IT", None, EspeakVoice),  # until an Italian neural voice ships in a package
        ("de", None, EspeakVoice),
    ],
)
def test_the_offline_voice_picks_its_engine(locale: str, name: str | None, engine: type) -> None:
    assert isinstance(OfflineVoice().engine_for(locale, name), engine)


def test_the_offline_voice_names_the_engine_that_spoke(tmp_path: Path) -> None:
    voice = OfflineVoice()
    en = voice.synthesize("Hot coffee.", locale="en", out=tmp_path / "en.wav")
    it = voice.synthesize("Caffè caldo.", locale="it", out=tmp_path / "it.wav")
    assert (en.engine, en.voice, it.engine, it.voice) == ("hibari", "heart", "espeak-ng", "it")
    assert "espeak" not in Path("/proc/self/maps").read_text().lower()
