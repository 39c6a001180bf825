"""A line as written and as spoken: what the voice is given to say for each word the viewer
reads, and the word timings carried back from the spoken words to the written ones.

The captions show the script as written ("$24.90"); the voice says "twenty-four dollars and
ninety cents". Each written word owns the spoken words said for it (none for an emoji), so a
written word is highlighted from the moment its first spoken word starts until its last one
ends.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, model_validator

from pipeline.voice.model import Speech, WordTiming
from pipeline.voice.port import VoiceSynth

__all__ = ["SpokenText", "speak"]

_log = logging.getLogger(__name__)


class SpokenText(BaseModel):
    """``written`` are a line's words as split by whitespace; ``spoken[i]`` is what is said for
    ``written[i]`` (words separated by spaces, "" for nothing)."""

    model_config = ConfigDict(frozen=True)

    written: tuple[str, ...]
    spoken: tuple[str, ...]

    @model_validator(mode="after")
    def _aligned(self) -> SpokenText:
        if len(self.written) != len(self.spoken):
            raise ValueError("every written word needs its spoken form")
        return self

    @property
    def text(self) -> str:
        """What the voice says: the spoken forms joined by single spaces."""
        return " ".join(" ".join(s.split()) for s in self.spoken if s.strip())

    def owners(self) -> list[int]:
        """For each whitespace-separated word of ``text``, the written word it was said for."""
        return [i for i, said in enumerate(self.spoken) for _ in said.split()]

    def written_timings(self, words: Sequence[WordTiming]) -> tuple[WordTiming, ...]:
        """The voice's timings of the spoken words, moved onto the written words.

        ``words`` are a voice's timings for ``text`` (their texts joined by spaces give back
        ``text``'s words; a voice joins the words it does not voice to the one before). A
        written word starts when the first word said for it starts and ends when the last one
        ends; one with nothing said for it (an emoji, the "€" of "24,90 €"), or that starts no
        later than the word before it, is joined to that word with a space, so the texts joined
        by spaces always give back the written line.
        """
        owners = self.owners()
        spans = [(w.start, w.end) for w in words for _ in w.text.split()]
        if len(spans) != len(owners):
            _log.warning("voice timings do not match the spoken text; captions show it spoken")
            return tuple(words)
        starts: dict[int, float] = {}
        ends: dict[int, float] = {}
        for owner, (start, end) in zip(owners, spans, strict=True):
            starts[owner] = min(starts.get(owner, start), start)
            ends[owner] = max(ends.get(owner, end), end)
        timed: list[WordTiming] = []
        pending = ""  # written words before the first spoken one
        for i, word in enumerate(self.written):
            begin = starts.get(i)
            if begin is not None and (not timed or begin > timed[-1].start):
                text = pending + word
                timed.append(WordTiming(text=text, start=begin, end=max(ends[i], begin)))
                pending = ""
            elif timed:
                last = timed[-1]
                end = max(last.end, ends.get(i, last.end))
                timed[-1] = WordTiming(text=f"{last.text} {word}", start=last.start, end=end)
            else:
                pending = f"{pending}{word} "
        return tuple(timed)


def speak(
    voice: VoiceSynth,
    line: SpokenText,
    *,
    locale: str,
    out: Path,
    name: str | None = None,
    rate: int | None = None,
) -> Speech:
    """``line`` spoken by ``voice`` into ``out``: its words timed as written, ``text`` as said."""
    speech = voice.synthesize(line.text, locale=locale, out=out, voice=name, rate=rate)
    return speech.model_copy(
        update={"words": line.written_timings(speech.words), "spoken": line.text}
    )
