"""Voice benchmark: the neural voice's model load, speed and pace, and its onset calibration.

Prints the model's load time, its real-time factor on one core, its pace against eSpeak NG's at
the default rate (the script writer sizes lines for that pace; ``neural.PACE`` matches it), and
the signed onset error of its words against PocketSphinx's forced alignment on calibration
sentences (not the held-out ones of tests/voice/test_neural_alignment.py), overall and by a
word's first sound: the numbers behind ``neural.ONSET_SHIFT``.

    python bench/voice_bench.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.voice import EspeakVoice, NeuralVoice
from pipeline.voice.hibari_model import hibari_model
from tests.voice.aligner import align

CALIBRATION = (
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "Our fresh coffee is roasted every morning and shipped the same day.",
    "Try the new running shoes today, and feel the difference on every mile.",
    "Order now and get free delivery on your first box of organic tea.",
    "Simple tools for busy people who want their evenings back.",
    "Find a sofa that fits your space, your style and your budget.",
    "Every bottle is filled at the source and sealed for freshness.",
    "Start your free trial and cancel anytime with a single tap.",
    "Soft cotton sheets that stay cool all night long.",
    "Hand made soap with olive oil, lavender and nothing else.",
)


def _first_sound(word: str) -> str:
    w = word.lower().strip(".,!?")
    if w[:2] in ("th", "sh", "ch", "wh"):
        return w[:2]
    return "vowel" if w[0] in "aeiou" else "fricative" if w[0] in "fsvz" else "other"


def main() -> None:
    started = time.perf_counter()
    hibari_model("heart")
    print(f"model load: {time.perf_counter() - started:.2f} s")
    neural, espeak = NeuralVoice(), EspeakVoice()
    errors: dict[str, list[float]] = {}
    audio = work = espeak_audio = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i, sentence in enumerate(CALIBRATION):
            started = time.perf_counter()
            speech = neural.synthesize(sentence, locale="en-US", out=Path(tmp) / f"{i}.wav")
            work += time.perf_counter() - started
            audio += speech.duration
            espeak_audio += espeak.synthesize(
                sentence, locale="en-US", out=Path(tmp) / f"e{i}.wav"
            ).duration
            heard = align(speech.path, sentence)
            for word, found in zip(speech.words, heard, strict=True):
                errors.setdefault(_first_sound(word.text), []).append(word.start - found.start)
    print(f"real-time factor: {audio / work:.0f}x ({audio:.1f} s of speech in {work:.2f} s)")
    print(f"pace: neural {audio:.1f} s, eSpeak NG {espeak_audio:.1f} s at the default rate")
    every = np.asarray([e for group in errors.values() for e in group])
    print(
        f"onset error vs PocketSphinx, {every.size} words: signed mean {every.mean() * 1000:+.1f} ms,"
        f" mean |error| {np.abs(every).mean() * 1000:.1f} ms,"
        f" within 40 ms {np.mean(np.abs(every) <= 0.040 + 1e-9):.0%}"
    )
    for sound, group in sorted(errors.items()):
        print(f"  {sound:10s} {len(group):3d} words, signed mean {np.mean(group) * 1000:+.1f} ms")


if __name__ == "__main__":
    main()
