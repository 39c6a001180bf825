"""EspeakVoice: the offline VoiceSynth, eSpeak NG with word timings from the engine's own events.

eSpeak NG's library is GPL-3.0: it runs in a helper program (``espeak_process.py``), one process
per line, never inside reelforge's own process. A fresh process per line is also what makes
the same line sound the same, bit for bit, every time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

import espeakng_loader
import numpy as np

from pipeline.errors import BadInput, StageError
from pipeline.voice.locales import check_rate, voice_for
from pipeline.voice.model import Speech
from pipeline.voice.timing import WordEvent, align_words
from pipeline.voice.wav import write_wav

HELPER = Path(__file__).with_name("espeak_process.py")
HELPER_TIMEOUT = 60.0  # seconds for one line
ENGINE = "espeak-ng"

__all__ = ["ENGINE", "EspeakVoice", "clean_text"]


def clean_text(text: str) -> str:
    """`text` with control and unencodable characters blanked, one for one.

    Keeping the length unchanged keeps eSpeak's character positions valid for the
    returned string; a NUL would otherwise cut the C string short.
    """
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in text)
    if not cleaned.strip():
        raise BadInput("voice.text", "there is no text to speak")
    return cleaned


def _check_voice(voice: str) -> str:
    voice = voice.strip()
    if not voice:
        raise BadInput("voice.name", "is empty")
    # eSpeak silently ignores an unknown "+variant", so check it against the data folder.
    _, plus, variant = voice.partition("+")
    data = Path(espeakng_loader.get_data_path())
    if plus and not (data / "voices" / "!v" / variant).is_file():
        raise BadInput("voice.name", f"eSpeak NG has no voice variant {variant!r}")
    return voice


def _speak(text: str, voice: str, rate: int) -> tuple[np.ndarray, int, list[WordEvent]]:
    """The samples, sample rate and word events of ``text``, from a fresh helper process."""
    with tempfile.TemporaryDirectory(prefix="reelforge-espeak-") as scratch:
        pcm = Path(scratch) / "speech.pcm"
        request = json.dumps({"text": text, "voice": voice, "rate": rate, "pcm": str(pcm)})
        try:
            done = subprocess.run(
                [sys.executable, "-I", str(HELPER)], input=request, capture_output=True,
                text=True, timeout=HELPER_TIMEOUT, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise StageError("voice", f"eSpeak NG took over {HELPER_TIMEOUT:g}s") from None
        if done.returncode == 2:
            bad = json.loads(done.stdout)
            raise BadInput(bad["where"], bad["problem"])
        if done.returncode != 0:
            raise StageError("voice", done.stderr.strip() or f"eSpeak NG exited {done.returncode}")
        reply = json.loads(done.stdout)
        samples = np.frombuffer(pcm.read_bytes(), dtype=np.int16)
    words = [WordEvent(w["position"], w["length"], w["start"]) for w in reply["words"]]
    return samples, int(reply["sample_rate"]), words


class EspeakVoice:
    """Speaks with the eSpeak NG library bundled in the espeakng-loader wheel (no network), in a
    helper process per line; lines are independent, so several are spoken at once."""

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
        """See `VoiceSynth.synthesize`; an explicit `voice` makes `locale` irrelevant."""
        spoken = clean_text(text)
        name = voice_for(locale) if voice is None else _check_voice(voice)
        pcm, sample_rate, events = _speak(spoken, name, check_rate(rate))
        words = align_words(spoken, events, pcm, sample_rate)
        if not words:
            raise BadInput("voice.text", f"eSpeak NG found no words to speak in {text!r}")
        write_wav(out, pcm, sample_rate)
        return Speech(
            path=out, sample_rate=sample_rate, duration=len(pcm) / sample_rate, words=words,
            voice=name, engine=ENGINE,
        )  # fmt: skip
