"""Word timings from ElevenLabs: the character alignment of text-to-speech, and the words of a
Scribe transcript.

``alignment`` (``{characters, character_start_times_seconds, character_end_times_seconds}``)
follows the text as sent, https://elevenlabs.io/docs/api-reference/text-to-speech/convert-with-timestamps;
Scribe's ``words`` are ``[{text, start, end, type: word|spacing|audio_event, speaker_id}]``,
https://elevenlabs.io/docs/api-reference/speech-to-text/convert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.providers.elevenlabs_api import PROVIDER
from pipeline.providers.errors import ProviderError
from pipeline.voice.model import WordTiming
from pipeline.voice.timing import split_words

__all__ = ["clamp_word", "is_spoken", "words_from_alignment", "words_from_scribe"]


def words_from_alignment(alignment: Any, *, duration: float) -> tuple[WordTiming, ...]:
    """Word timings from ElevenLabs' character alignment.

    Words are split on whitespace with punctuation attached, as the offline voice does: a word
    starts when its first character does and ends when its last one does. A token with no letter
    or digit ("—", "...") is not a spoken word: it joins the word before it (or the next one when
    it comes first), so the words joined by spaces give back the text.
    """
    if not isinstance(alignment, Mapping):
        raise ProviderError(PROVIDER, "character alignment is missing")
    chars = alignment.get("characters")
    starts = alignment.get("character_start_times_seconds")
    ends = alignment.get("character_end_times_seconds")
    if not (
        isinstance(chars, list)
        and isinstance(starts, list)
        and isinstance(ends, list)
        and len(chars) == len(starts) == len(ends)
        and all(isinstance(c, str) for c in chars)
        and all(isinstance(t, int | float) for t in (*starts, *ends))
    ):
        raise ProviderError(PROVIDER, "character alignment is malformed")
    text = "".join(chars)
    owner = [i for i, c in enumerate(chars) for _ in c]  # text position -> alignment entry
    tokens = []
    for match in split_words(text):
        first, last = owner[match.start()], owner[match.end() - 1]
        tokens.append((match.group(), float(starts[first]), float(ends[last])))
    return tuple(clamp_word(w, duration) for w in _join_unspoken(tokens))


def words_from_scribe(items: Any) -> list[WordTiming]:
    """Scribe's ``words`` (spacing, audio events and untimed entries dropped) as WordTimings."""
    tokens: list[tuple[str, float, float]] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            continue
        kind = item.get("type", "word")
        text = str(item.get("text") or "").strip()
        start, end = item.get("start"), item.get("end")
        if kind == "punctuation" and tokens and text:
            word, s, e = tokens[-1]
            tokens[-1] = (word + text, s, e)
            continue
        if kind != "word" or not text:
            continue
        if not isinstance(start, int | float) or not isinstance(end, int | float):
            continue
        tokens.append((" ".join(text.split()), float(start), float(end)))
    return _join_unspoken(tokens)


def is_spoken(token: str) -> bool:
    return any(ch.isalnum() for ch in token)


def _join_unspoken(tokens: Sequence[tuple[str, float, float]]) -> list[WordTiming]:
    words: list[WordTiming] = []
    pending = ""
    for text, start, end in tokens:
        if not is_spoken(text):
            if words:
                last = words[-1]
                words[-1] = last.model_copy(update={"text": f"{last.text} {text}"})
            else:
                pending = f"{pending}{text} "
            continue
        start = max(start, words[-1].start if words else 0.0, 0.0)
        words.append(WordTiming(text=pending + text, start=start, end=max(end, start)))
        pending = ""
    return words


def clamp_word(word: WordTiming, duration: float) -> WordTiming:
    end = min(word.end, duration)
    start = min(word.start, end)
    if (start, end) == (word.start, word.end):
        return word
    return WordTiming(text=word.text, start=start, end=end)
