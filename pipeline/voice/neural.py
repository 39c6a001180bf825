"""NeuralVoice: the offline English VoiceSynth, hibari's neural voice with word timings from the
model's own phoneme durations.

The text is split into sentences as hibari does (one model run each, at most
``MAX_PHONEMES`` phonemes), every phoneme id is tagged with the word it was read from, and a
word lasts from its first phoneme's start to its last one's end on the durations the model
returns. The model's audio leads its durations by a fixed amount (``ONSET_SHIFT``, measured
against PocketSphinx's forced alignment: ``tests/voice/test_neural_alignment.py``). Each
sentence's leading pad is trimmed, and the line ends shortly after its last sound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from pipeline.errors import BadInput, StageError
from pipeline.voice.espeak import clean_text
from pipeline.voice.hibari_model import SAMPLE_RATE, UNIT_SECONDS, HibariModel, hibari_model
from pipeline.voice.locales import DEFAULT_RATE, check_rate
from pipeline.voice.model import Speech, WordTiming
from pipeline.voice.wav import write_wav

__all__ = ["DEFAULT_VOICE", "ENGINE", "ONSET_SHIFT", "NeuralVoice", "speaks_english"]

ENGINE = "hibari"
DEFAULT_VOICE = "heart"  # American English, the voice inside the wheel
ONSET_SHIFT = -0.085  # seconds from a phoneme's start on the durations to its sound
# A fricative's hiss is heard a little before its phoneme starts on the durations (bench/
# voice_bench.py: +23 ms late without this, every other first sound within ±16 ms).
FRICATIVE_SHIFT = -0.020
_FRICATIVES = frozenset("fsvzʃʒ")
KEEP_BEFORE = 0.05  # seconds of quiet kept before a sentence's first sound
KEEP_AFTER = 0.10  # and after the line's last sound
FADE = 0.005  # seconds of fade at every cut
# A run's first sound can start after its first phoneme does on the durations (the model eases
# in from its pad): that word starts where its audio first rises above SOUND (of full scale,
# in WINDOW-second steps), the onset PocketSphinx hears.
SOUND, WINDOW = 0.01, 0.005
MAX_PHONEMES = 400  # hibari's limit for one run; longer sentences are split between words
MIN_SPEED, MAX_SPEED = 0.5, 2.0
# hibari's own pace (speed 1) is about 6% slower than eSpeak NG's at its default rate, for which
# the script writer sizes its lines: the default rate speeds it up to match (bench/voice_bench.py).
PACE = 1.15
SEED = 0  # the noise in hibari's signal model: fixed, so a line always sounds the same
# Symbols that are silence or prosody, never a word's own sound.
_PAUSES = frozenset(';:,.!?—…"()“” ')
_CLAUSE_END = (",", ";", ":", "—")


def speaks_english(locale: str) -> bool:
    return locale.strip().replace("_", "-").lower().split("-")[0] == "en"


@dataclass
class _Run:
    """The phoneme ids of one model run, each tagged with its word (-1: pad, space, pause)."""

    ids: list[int] = field(default_factory=lambda: [0])
    owners: list[int] = field(default_factory=lambda: [-1])
    hissed: set[int] = field(default_factory=set)  # words that start with a fricative


def _sentences(text: str, words: Sequence[str]) -> list[tuple[int, str]]:
    """hibari's sentences of ``text``, each with the index of its first word."""
    from hibari import Hibari

    out: list[tuple[int, str]] = []
    first = 0
    for sentence in Hibari.split_sentences(text):
        count = len(sentence.split())
        if sentence.split() != list(words[first : first + count]):
            return [(0, " ".join(words))]  # a split inside a word: read it as one sentence
        out.append((first, sentence))
        first += count
    return out


def _word_phonemes(model: HibariModel, sentence: str) -> list[str]:
    """The phonemes of each word of ``sentence`` (its punctuation included)."""
    words = [""]
    for token in model.tokens(sentence):
        words[-1] += token.phonemes or ""
        if token.whitespace:
            words.append("")
    if len(words) != len(sentence.split()):
        raise StageError("voice", f"hibari's tokens do not match the words of {sentence!r}")
    return words


def _groups(phonemes: Sequence[str], sizes: Sequence[int]) -> list[list[int]]:
    """The words of one sentence grouped into model runs of at most MAX_PHONEMES ids: split
    between words, after the last clause in the run when there is one."""
    groups: list[list[int]] = [[]]
    size = 0
    for i, count in enumerate(sizes):
        if groups[-1] and size + count > MAX_PHONEMES:
            group = groups[-1]
            clauses = [k for k, w in enumerate(group[:-1]) if phonemes[w].endswith(_CLAUSE_END)]
            cut = clauses[-1] + 1 if clauses else len(group)
            groups[-1], rest = group[:cut], group[cut:]
            groups.append(rest)
            size = sum(sizes[w] for w in rest)
        groups[-1].append(i)
        size += count
    return groups


def _runs(model: HibariModel, first: int, phonemes: Sequence[str]) -> list[_Run]:
    """The model runs of one sentence, whose first word is the line's word ``first``."""
    tagged = [
        [(model.vocab[c], -1 if c in _PAUSES else first + i) for c in word if c in model.vocab]
        for i, word in enumerate(phonemes)
    ]
    hissed = {
        first + i
        for i, word in enumerate(phonemes)
        if next((c for c in word if c in model.vocab and c not in _PAUSES), "") in _FRICATIVES
    }
    runs = []
    for group in _groups(phonemes, [len(ids) + 1 for ids in tagged]):
        run = _Run(hissed=hissed)
        for k, word in enumerate(group):
            if k:
                run.ids.append(model.vocab[" "])
                run.owners.append(-1)
            run.ids += [id_ for id_, _ in tagged[word]]
            run.owners += [owner for _, owner in tagged[word]]
        run.ids.append(0)
        run.owners.append(-1)
        runs.append(run)
    return runs


def _faded(audio: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    n = min(round(FADE * SAMPLE_RATE), len(audio) // 2)
    if n:
        ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
        audio = audio.copy()
        audio[:n] *= ramp
        audio[-n:] *= ramp[::-1]
    return audio


class NeuralVoice:
    """Speaks English with hibari's voice (in the hibari-tts wheel; no network); the model loads
    once per process. Lines are independent, so several may be spoken at once."""

    concurrent = True

    def synthesize(
        self,
        text: str,
        *,
        locale: str,
        out: Path,
        voice: str | None = None,
        rate: int | None = None,
    ) -> Speech:
        """See `VoiceSynth.synthesize`; `voice` is a hibari voice ("heart")."""
        if not speaks_english(locale):
            raise BadInput("brand.locale", f"the neural voice speaks English, not {locale!r}")
        name = DEFAULT_VOICE if voice is None else voice.strip()
        if not name:
            raise BadInput("voice.name", "is empty")
        speed = min(max(PACE * check_rate(rate) / DEFAULT_RATE, MIN_SPEED), MAX_SPEED)
        spoken = " ".join(clean_text(text).split())
        model = hibari_model(name)
        words = spoken.split()
        rng = np.random.default_rng(SEED)
        parts: list[npt.NDArray[np.float32]] = []
        spans: dict[int, tuple[float, float]] = {}
        at = 0  # samples written so far
        runs = [
            run
            for first, sentence in _sentences(spoken, words)
            for run in _runs(model, first, _word_phonemes(model, sentence))
        ]
        for index, run in enumerate(runs):
            audio, timed = self._run(model, run, speed, rng, last=index == len(runs) - 1)
            for word, (start, end) in timed.items():
                spans[word] = (start + at / SAMPLE_RATE, end + at / SAMPLE_RATE)
            parts.append(audio)
            at += len(audio)
        timings = _timings(words, spans, at / SAMPLE_RATE)
        if not timings:
            raise BadInput("voice.text", f"the neural voice found no words to speak in {text!r}")
        pcm = (np.clip(np.concatenate(parts), -1.0, 1.0) * 32767.0).astype(np.int16)
        write_wav(out, pcm, SAMPLE_RATE)
        return Speech(
            path=out, sample_rate=SAMPLE_RATE, duration=len(pcm) / SAMPLE_RATE, words=timings,
            voice=name, engine=ENGINE,
        )  # fmt: skip

    @staticmethod
    def _run(
        model: HibariModel, run: _Run, speed: float, rng: np.random.Generator, *, last: bool
    ) -> tuple[npt.NDArray[np.float32], dict[int, tuple[float, float]]]:
        """One model run's audio, cut to its sound, and its words' spans in that audio."""
        acoustics = model.run(run.ids, speed, rng)
        ends = np.cumsum(acoustics.units) * UNIT_SECONDS + ONSET_SHIFT
        starts = ends - acoustics.units * UNIT_SECONDS
        spans: dict[int, tuple[float, float]] = {}
        for i, owner in enumerate(run.owners):
            if owner >= 0:
                onset = float(starts[i]) + (FRICATIVE_SHIFT if owner in run.hissed else 0.0)
                start, end = spans.get(owner, (onset, float(ends[i])))
                spans[owner] = (min(start, float(starts[i])), max(end, float(ends[i])))
        total = len(acoustics.audio) / SAMPLE_RATE
        if not spans:
            return acoustics.audio[:0], {}
        first = min(spans, key=lambda w: spans[w][0])
        start, end = spans[first]
        spans[first] = (_first_sound(acoustics.audio, start, end), end)
        begin = max(min(s for s, _ in spans.values()) - KEEP_BEFORE, 0.0)
        finish = max(e for _, e in spans.values()) + KEEP_AFTER if last else total
        cut = acoustics.audio[round(begin * SAMPLE_RATE) : round(min(finish, total) * SAMPLE_RATE)]
        shifted = {w: (max(s - begin, 0.0), e - begin) for w, (s, e) in spans.items()}
        return _faded(cut), shifted


def _first_sound(audio: npt.NDArray[np.float32], start: float, end: float) -> float:
    """When the audio first rises above SOUND between ``start`` and ``end`` (``start`` if it
    is already sounding there or never does)."""
    step = round(WINDOW * SAMPLE_RATE)
    at = max(round(start * SAMPLE_RATE), 0)
    stop = min(round(end * SAMPLE_RATE), len(audio))
    while at + step <= stop:
        if float(np.sqrt(np.mean(audio[at : at + step] ** 2))) >= SOUND:
            return max(at / SAMPLE_RATE, start)
        at += step
    return start


def _timings(
    words: Sequence[str], spans: dict[int, tuple[float, float]], duration: float
) -> tuple[WordTiming, ...]:
    """One timing per voiced word; a word with no sound of its own ("—") joins the one before
    it (or the next, first in the line), so the texts joined by spaces give back the words."""
    timed: list[WordTiming] = []
    pending = ""
    for i, word in enumerate(words):
        if i not in spans:
            if timed:
                timed[-1] = timed[-1].model_copy(update={"text": f"{timed[-1].text} {word}"})
            else:
                pending = f"{pending}{word} "
            continue
        start, end = spans[i]
        start, end = round(min(start, duration), 4), round(min(end, duration), 4)
        timed.append(WordTiming(text=pending + word, start=start, end=max(start, end)))
        pending = ""
    return tuple(timed)
