"""ElevenLabs text-to-speech with word timings, as a VoiceSynth; the Transcriber over its Scribe
speech-to-text is :mod:`pipeline.providers.elevenlabs_scribe` (exported here too, for the
registry).

API shapes, from ElevenLabs' reference and SDK:
- Text to speech with timestamps,
  https://elevenlabs.io/docs/api-reference/text-to-speech/convert-with-timestamps
  (and https://elevenlabs.io/docs/api-reference/text-to-speech-with-timestamps):
  ``POST /v1/text-to-speech/{voice_id}/with-timestamps?output_format=pcm_24000``, header
  ``xi-api-key``, JSON ``{text, model_id, language_code?, voice_settings: {stability,
  similarity_boost, style, use_speaker_boost, speed}, seed?}``; answers ``{audio_base64,
  alignment: {characters, character_start_times_seconds, character_end_times_seconds},
  normalized_alignment}``. ``alignment`` follows the text as sent; ``pcm_<rate>`` is raw 16-bit
  little-endian mono. ``language_code`` is only accepted by the models that enforce a language
  (Turbo/Flash v2.5, v3), an error for the others. ``pcm_44100`` needs a Pro subscription, so
  the default is ``pcm_24000`` (the models' native rate, every tier). ``speed``: 0.7 to 1.2.
  Types: github.com/elevenlabs/elevenlabs-python ``AudioWithTimestampsResponse``,
  ``VoiceSettings``, ``text_to_speech/raw_client.py``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
import numpy.typing as npt

from pipeline.errors import BadInput
from pipeline.providers.breaker import CircuitBreaker
from pipeline.providers.cache import cache_key
from pipeline.providers.connections import Sleep
from pipeline.providers.elevenlabs_api import (
    API_BASE,
    KEY_ENV,
    NO_KEY,
    PROVIDER,
    TIMEOUT,
    ElevenLabsAdapter,
    language_code,
)
from pipeline.providers.elevenlabs_scribe import ElevenLabsTranscriber
from pipeline.providers.elevenlabs_words import is_spoken, words_from_alignment
from pipeline.providers.errors import ProviderError
from pipeline.providers.http import RetryPolicy
from pipeline.providers.runtime import ProviderRuntime
from pipeline.providers.sync import run_sync
from pipeline.settings import ProviderSettings
from pipeline.voice.locales import DEFAULT_RATE, check_rate
from pipeline.voice.model import Speech
from pipeline.voice.timing import split_words
from pipeline.voice.wav import wav_duration, write_wav

__all__ = [
    "DEFAULT_TTS_MODEL",
    "DEFAULT_VOICE_ID",
    "DEFAULT_VOICE_SETTINGS",
    "VOICES_ENV",
    "ElevenLabsTranscriber",  # defined in elevenlabs_scribe; registry.py builds both from here
    "ElevenLabsVoice",
    "parse_voice_map",
]

VOICES_ENV = "REELFORGE_ELEVENLABS_VOICES"
DEFAULT_TTS_MODEL = "eleven_multilingual_v2"
DEFAULT_VOICE_ID = "21m00Tcm4TlvDq8ikWAM"  # "Rachel", the premade voice of ElevenLabs' examples
DEFAULT_OUTPUT_FORMAT = "pcm_24000"
MIN_SPEED, MAX_SPEED = 0.7, 1.2
# Models that take ``language_code``; the others reject it.
_LANGUAGE_MODELS = ("eleven_turbo_v2_5", "eleven_flash_v2_5", "eleven_v3")
_VOICE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PCM = re.compile(r"^pcm_(\d{4,6})$")


def parse_voice_map(spec: str | None) -> dict[str, str]:
    """``"en=21m00Tcm4TlvDq8ikWAM,it-IT=…"`` as ``{"en": …, "it-it": …}``; ``*`` is any locale."""
    voices: dict[str, str] = {}
    for entry in (spec or "").split(","):
        if not entry.strip():
            continue
        locale, eq, voice_id = entry.partition("=")
        locale, voice_id = locale.strip().replace("_", "-").lower(), voice_id.strip()
        if not eq or not locale or not _VOICE_ID.match(voice_id):
            raise BadInput(VOICES_ENV, f"{entry.strip()!r} is not locale=voice_id")
        voices[locale] = voice_id
    return voices


# ElevenLabs ``voice_settings`` for an ad read: steady, close to the voice, and no style
# exaggeration, which makes the pace wander.
DEFAULT_VOICE_SETTINGS: Mapping[str, Any] = MappingProxyType(
    {"stability": 0.5, "similarity_boost": 0.75, "style": 0.0, "use_speaker_boost": True}
)


class ElevenLabsVoice(ElevenLabsAdapter):
    """VoiceSynth over ElevenLabs text-to-speech; word timings from its character alignment.

    The voice is ``voice`` when given (an ElevenLabs voice id, e.g. the brief's ``voice.name``),
    else ``voices[locale]``, ``voices[language]``, ``voices["*"]``, else ``default_voice``.
    ``rate`` (words per minute, as for the offline voice) becomes ``speed`` = rate / 175 within
    ElevenLabs' 0.7-1.2.
    """

    concurrent = True  # a network call per line: the render speaks its lines in parallel

    def __init__(
        self,
        api_key: str,
        *,
        model: str = DEFAULT_TTS_MODEL,
        voices: Mapping[str, str] | None = None,
        default_voice: str = DEFAULT_VOICE_ID,
        settings: Mapping[str, Any] | None = None,
        output_format: str = DEFAULT_OUTPUT_FORMAT,
        seed: int | None = None,
        runtime: ProviderRuntime | None = None,
        client: httpx.AsyncClient | None = None,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Sleep = asyncio.sleep,
        base_url: str = API_BASE,
    ) -> None:
        super().__init__(
            api_key,
            model=model,
            runtime=runtime,
            client=client,
            policy=policy,
            breaker=breaker,
            sleep=sleep,
            base_url=base_url,
        )
        found = _PCM.match(output_format)
        if found is None:
            raise ValueError(f"output_format must be pcm_<rate> (raw PCM), not {output_format!r}")
        self.sample_rate = int(found.group(1))
        self.output_format = output_format
        self.voices = {k.replace("_", "-").lower(): v for k, v in (voices or {}).items()}
        self.default_voice = default_voice
        self.settings = dict(settings if settings is not None else DEFAULT_VOICE_SETTINGS)
        self.seed = seed

    @classmethod
    def from_settings(
        cls,
        settings: ProviderSettings,
        *,
        model: str | None = None,
        runtime: ProviderRuntime | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> ElevenLabsVoice:
        key = settings.key("elevenlabs")
        if key is None:
            raise BadInput(KEY_ENV, f"{NO_KEY}, or use the offline voice")
        return cls(
            key,
            model=model or settings.voice_model or DEFAULT_TTS_MODEL,
            voices=parse_voice_map(settings.elevenlabs_voices),
            runtime=runtime,
            client=client,
        )

    def voice_for(self, locale: str, voice: str | None = None) -> str:
        """The voice id that speaks ``locale`` (or the explicit ``voice``)."""
        if voice is not None:
            chosen = voice.strip()
            if not chosen:
                raise BadInput("voice.name", "is empty")
            if not _VOICE_ID.match(chosen):
                raise BadInput("voice.name", f"{chosen!r} is not an ElevenLabs voice id")
            return chosen
        key = locale.strip().replace("_", "-").lower()
        for candidate in (key, key.split("-")[0], "*"):
            if candidate in self.voices:
                return self.voices[candidate]
        return self.default_voice

    def synthesize(
        self,
        text: str,
        *,
        locale: str,
        out: Path,
        voice: str | None = None,
        rate: int | None = None,
    ) -> Speech:
        """See ``VoiceSynth.synthesize``."""
        return run_sync(self.asynthesize(text, locale=locale, out=out, voice=voice, rate=rate))

    def _body(self, text: str, locale: str, rate: int | None) -> dict[str, Any]:
        settings = dict(self.settings)
        if rate is not None:
            speed = check_rate(rate) / DEFAULT_RATE
            settings["speed"] = round(min(max(speed, MIN_SPEED), MAX_SPEED), 3)
        body: dict[str, Any] = {"text": text, "model_id": self.model, "voice_settings": settings}
        if self.model.startswith(_LANGUAGE_MODELS):
            body["language_code"] = language_code(locale)
        if self.seed is not None:
            body["seed"] = self.seed
        return body

    async def asynthesize(
        self,
        text: str,
        *,
        locale: str,
        out: Path,
        voice: str | None = None,
        rate: int | None = None,
    ) -> Speech:
        spoken = " ".join(text.split())
        if not any(is_spoken(m.group()) for m in split_words(spoken)):
            raise BadInput("voice.text", f"there is no text to speak in {text!r}")
        voice_id = self.voice_for(locale, voice)
        body = self._body(spoken, locale, rate)
        params = {k: v for k, v in body.items() if k not in ("text", "model_id", "seed")}
        params |= {"voice_id": voice_id, "output_format": self.output_format}
        key = cache_key(self.name, self.model, prompt=spoken, params=params, seed=self.seed)
        self.meter.check(self.name, self.model)
        speaker = f"{self.name}:{voice_id}"
        async with self._claim(key):
            hit = self.cache.get(key) if self.cache else None
            if hit is not None:
                _copy_atomic(hit.path, out)
                self.meter.cached(self.name, self.model, what="voice")
                duration = wav_duration(out)
                words = words_from_alignment(hit.meta.get("alignment"), duration=duration)
                return Speech(
                    path=out,
                    sample_rate=int(hit.meta.get("sample_rate") or self.sample_rate),
                    duration=duration,
                    words=words,
                    voice=speaker,
                    engine=self.name,
                )
            url = f"{self._base}/v1/text-to-speech/{quote(voice_id, safe='')}/with-timestamps"
            async with self._session() as api:
                data = await api.json(
                    "POST",
                    url,
                    params={"output_format": self.output_format},
                    headers=self._headers,
                    json=body,
                    timeout=TIMEOUT,
                )
            pcm, alignment = _decode_speech(data)
            duration = len(pcm) / self.sample_rate
            words = words_from_alignment(alignment, duration=duration)
            if not words:
                raise ProviderError(self.name, "text-to-speech alignment holds no words")
            write_wav(out, pcm, self.sample_rate)
            if self.cache is not None:
                self.cache.put(
                    key,
                    out,
                    provider=self.name,
                    model=self.model,
                    meta={
                        "voice_id": voice_id,
                        "sample_rate": self.sample_rate,
                        "text": spoken,
                        "alignment": alignment,
                    },
                )
            self.meter.record(self.name, self.model, len(spoken) / 1000, what="voice")
        return Speech(
            path=out, sample_rate=self.sample_rate, duration=duration, words=words,
            voice=speaker, engine=self.name,
        )  # fmt: skip


def _decode_speech(data: Any) -> tuple[npt.NDArray[np.int16], dict[str, Any]]:
    """The PCM samples and the character alignment of a with-timestamps answer."""
    if not isinstance(data, dict) or not isinstance(data.get("audio_base64"), str):
        raise ProviderError(PROVIDER, "text-to-speech answered without audio_base64")
    try:
        raw = base64.b64decode(data["audio_base64"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProviderError(PROVIDER, f"text-to-speech audio is not base64: {exc}") from exc
    raw = raw[: len(raw) - len(raw) % 2]  # whole 16-bit samples
    if not raw:
        raise ProviderError(PROVIDER, "text-to-speech answered with no audio")
    alignment = data.get("alignment") or data.get("normalized_alignment")
    if not isinstance(alignment, dict):
        raise ProviderError(PROVIDER, "text-to-speech answered without a character alignment")
    return np.frombuffer(raw, dtype="<i2").astype(np.int16), alignment


def _copy_atomic(source: Path, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
