from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from pipeline.voice.timing import WordEvent, align_words

RATE = 1000  # one sample per ms keeps the arithmetic readable


def audio(*spans: tuple[float, float], total: float) -> npt.NDArray[np.int16]:
    """Silence of length `total` seconds with loud noise inside each (start, end) span."""
    pcm = np.zeros(round(total * RATE), dtype=np.int16)
    for start, end in spans:
        pcm[round(start * RATE) : round(end * RATE)] = 5000
    return pcm


def test_starts_come_from_events_and_words_join_until_a_pause() -> None:
    text = "Wait for it. . . Now"
    events = [
        WordEvent(0, 4, 0.0),
        WordEvent(5, 3, 0.3),
        WordEvent(9, 2, 0.5),
        WordEvent(17, 3, 1.0),
    ]
    pcm = audio((0.0, 0.28), (0.3, 0.5), (0.5, 0.7), (1.0, 1.3), total=1.5)
    words = align_words(text, events, pcm, RATE)
    assert [(w.text, w.start, w.end) for w in words] == [
        ("Wait", 0.0, 0.3),  # 20 ms of silence is not a pause
        ("for", 0.3, 0.5),
        ("it. . .", 0.5, pytest.approx(0.7)),  # unspoken dots join the word before
        ("Now", 1.0, pytest.approx(1.3)),  # the last word ends with its sound
    ]


def test_several_events_in_one_word_keep_the_first_start() -> None:
    text = "only 24,90 € 😀 ok"
    # eSpeak reads "24,90" as several words and an emoji's name at the space after it.
    events = [
        WordEvent(0, 4, 0.0),
        WordEvent(5, 5, 0.4),
        WordEvent(6, 5, 0.7),
        WordEvent(11, 1, 1.0),
        WordEvent(13, 1, 1.3),
        WordEvent(14, 1, 1.5),
        WordEvent(15, 2, 1.8),
    ]
    words = align_words(text, events, audio((0, 2.0), total=2.0), RATE)
    assert [(w.text, w.start) for w in words] == [
        ("only", 0.0),
        ("24,90", 0.4),
        ("€", 1.0),
        ("😀", 1.3),
        ("ok", 1.8),
    ]


def test_leading_unspoken_words_join_the_first_spoken_one() -> None:
    events = [WordEvent(2, 5, 0.1), WordEvent(8, 5, 0.5)]
    words = align_words("— Hello world", events, audio((0.1, 0.9), total=1.0), RATE)
    assert [w.text for w in words] == ["— Hello", "world"]


def test_no_events_means_no_words() -> None:
    assert align_words("...", [], audio(total=0.5), RATE) == ()


def test_events_out_of_order_never_make_starts_go_back() -> None:
    events = [WordEvent(0, 1, 0.2), WordEvent(2, 1, 0.2), WordEvent(4, 1, 0.4)]
    words = align_words("a b c", events, audio((0, 0.6), total=0.6), RATE)
    assert [(w.text, w.start) for w in words] == [("a b", 0.2), ("c", 0.4)]
