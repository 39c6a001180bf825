"""Maps eSpeak word events back onto the input's words and ends each word where its sound stops."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from pipeline.voice.model import WordTiming

__all__ = ["MIN_PAUSE", "SILENCE_RMS", "WordEvent", "align_words", "split_words"]

_WORD = re.compile(r"\S+")
_FRAME = 0.01  # seconds per energy frame
SILENCE_RMS = 100.0  # int16 units, about -50 dBFS; eSpeak's pauses are digital zero
MIN_PAUSE = 0.1  # shorter trailing silence (stop closures, word joins) stays in the word


@dataclass(frozen=True, slots=True)
class WordEvent:
    """An espeakEVENT_WORD: where the word is in the text and when its sound starts."""

    position: int  # 0-based character index into the text
    length: int
    start: float  # seconds


def split_words(text: str) -> list[re.Match[str]]:
    """The input's words: whitespace-separated, punctuation kept attached as written."""
    return list(_WORD.finditer(text))


def _frame_rms(pcm: npt.NDArray[np.int16], frame: int) -> npt.NDArray[np.float64]:
    count = -(-len(pcm) // frame)
    padded = np.zeros(count * frame, dtype=np.float64)
    padded[: len(pcm)] = pcm
    rms: npt.NDArray[np.float64] = np.sqrt(np.mean(padded.reshape(count, frame) ** 2, axis=1))
    return rms


def align_words(
    text: str, events: Sequence[WordEvent], pcm: npt.NDArray[np.int16], sample_rate: int
) -> tuple[WordTiming, ...]:
    """One timing per spoken word of `text`, starts taken from the engine's word events.

    A word starts at its first event (eSpeak may emit several, e.g. for "24,90" or an
    emoji's name). Words eSpeak does not voice ("...", "—") are joined to the previous
    word with a space, so the texts joined by spaces always give back the input's words.
    A word ends where the next one starts, unless at least MIN_PAUSE of silence precedes
    that start; the last word ends where its sound stops.
    """
    words = split_words(text)
    starts: list[float | None] = [None] * len(words)
    word_starts = [m.start() for m in words]
    for event in events:
        # Events can point at the space after a word (an emoji's spoken name): take
        # the word at or before the position.
        index = max(bisect_right(word_starts, event.position) - 1, 0)
        if index < len(words) and starts[index] is None:
            starts[index] = event.start

    texts: list[str] = []
    times: list[float] = []
    pending = ""  # silent words before the first spoken one
    for match, start in zip(words, starts, strict=True):
        if start is None or (times and start <= times[-1]):
            if texts:
                texts[-1] = f"{texts[-1]} {match.group()}"
            else:
                pending = f"{pending}{match.group()} "
            continue
        texts.append(pending + match.group())
        times.append(start)
        pending = ""
    if not texts:
        return ()

    frame = max(round(sample_rate * _FRAME), 1)
    voiced = _frame_rms(pcm, frame) > SILENCE_RMS
    duration = len(pcm) / sample_rate
    timings = []
    for i, (word, start) in enumerate(zip(texts, times, strict=True)):
        last = i == len(times) - 1
        limit = duration if last else times[i + 1]
        # Whole frames from the one holding `start` up to (not into) the next word's frame.
        first = int(start * sample_rate) // frame
        loud = np.flatnonzero(voiced[first : int(limit * sample_rate) // frame])
        sound_end = min((first + loud[-1] + 1) * frame / sample_rate, limit) if loud.size else limit
        end = sound_end if last or limit - sound_end >= MIN_PAUSE else limit
        timings.append(WordTiming(text=word, start=start, end=max(end, start)))
    return tuple(timings)
