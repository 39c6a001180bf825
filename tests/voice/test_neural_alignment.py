"""The neural voice's word timings against an independent forced aligner (PocketSphinx).

The onset shift in ``pipeline.voice.neural`` was measured on other sentences (bench/voice_bench.py);
these are held out. Word timings drive the karaoke captions, so a word must light up when it
is heard: within 40 ms for nearly all words.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.voice import NeuralVoice, normalise, speak

from .aligner import onset_errors

pytestmark = pytest.mark.integration

HELD_OUT = (
    "Wake up to a smoother morning with our slow roasted blend.",
    "Every pair is stitched by hand in a small workshop in Portugal.",
    "Your skin will thank you after just one week of gentle care.",
    "Light, warm and waterproof, this jacket goes wherever you go.",
    "Meet the blender that crushes ice in seconds and cleans itself.",
    "Plan your meals, track your spending and save more every month.",
    "Fresh flowers delivered to your door, arranged by local florists.",
    "Sleep better tonight on a mattress designed for deep rest.",
    "Join thousands of runners who train smarter with our app.",
    "Bring the whole family together around a table full of flavor.",
)
TOLERANCE = 0.040  # seconds
MIN_SHARE = 0.90  # of words whose onset is within TOLERANCE of the aligner's


@pytest.fixture(scope="module")
def errors(tmp_path_factory: pytest.TempPathFactory) -> list[float]:
    voice = NeuralVoice()
    root = tmp_path_factory.mktemp("aligned")
    found: list[float] = []
    for i, sentence in enumerate(HELD_OUT):
        speech = voice.synthesize(sentence, locale="en-US", out=root / f"{i}.wav")
        assert [w.text for w in speech.words] == sentence.split()
        found += onset_errors([w.start for w in speech.words], sentence, speech.path)
    return found


def test_word_onsets_match_a_forced_aligner(errors: list[float]) -> None:
    err = np.abs(np.asarray(errors))
    share = float(np.mean(err <= TOLERANCE + 1e-9))
    print(
        f"\nneural voice vs PocketSphinx, {len(err)} words: mean |error| {err.mean() * 1000:.1f} ms,"
        f" max {err.max() * 1000:.0f} ms, within {TOLERANCE * 1000:.0f} ms {share:.0%},"
        f" signed mean {np.mean(errors) * 1000:+.1f} ms"
    )
    assert share >= MIN_SHARE
    assert err.mean() <= 0.030
    assert abs(float(np.mean(errors))) <= 0.020  # no leftover offset


def test_normalised_words_are_timed_where_they_are_heard(tmp_path: Path) -> None:
    """A price is said as several words; the written word is lit from its first one's onset."""
    line = normalise("Now only $24.90, delivered free.", "en")
    speech = speak(NeuralVoice(), line, locale="en", out=tmp_path / "price.wav")
    assert [w.text for w in speech.words] == ["Now", "only", "$24.90,", "delivered", "free."]
    assert speech.spoken == "Now only twenty-four dollars and ninety cents, delivered free."
    said = "Now only twenty four dollars and ninety cents delivered free"
    from .aligner import align

    heard = align(speech.path, said)
    price = speech.words[2]
    assert abs(price.start - heard[2].start) <= TOLERANCE  # "twenty"
    assert abs(price.end - heard[7].end) <= 0.08  # "cents"
    assert abs(speech.words[3].start - heard[8].start) <= TOLERANCE  # "delivered"
