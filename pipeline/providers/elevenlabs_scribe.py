"""ElevenLabs Scribe speech-to-text as a Transcriber: the words of a user's own voice-over with
their timestamps, so it still gets karaoke captions.

API, https://elevenlabs.io/docs/api-reference/speech-to-text/convert:
``POST /v1/speech-to-text`` multipart ``file``, ``model_id``, ``language_code?``,
``timestamps_granularity=word``, ``tag_audio_events``; answers ``{language_code,
language_probability, text, words: [{text, start, end, type: word|spacing|audio_event,
speaker_id}]}`` (SDK ``SpeechToTextWordResponseModel``). ``scribe_v1`` is deprecated in favour
of ``scribe_v2``, the default here.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import httpx

from pipeline.errors import BadInput
from pipeline.providers.breaker import CircuitBreaker
from pipeline.providers.cache import cache_key
from pipeline.providers.connections import Sleep
from pipeline.providers.elevenlabs_api import (
    API_BASE,
    KEY_ENV,
    NO_KEY,
    TIMEOUT,
    ElevenLabsAdapter,
    language_code,
)
from pipeline.providers.elevenlabs_words import clamp_word, words_from_scribe
from pipeline.providers.errors import ProviderError
from pipeline.providers.http import RetryPolicy
from pipeline.providers.runtime import ProviderRuntime
from pipeline.providers.sync import run_sync
from pipeline.settings import ProviderSettings
from pipeline.voice.audiofile import audio_info
from pipeline.voice.model import Speech

__all__ = ["DEFAULT_STT_MODEL", "ElevenLabsTranscriber"]

DEFAULT_STT_MODEL = "scribe_v2"


class ElevenLabsTranscriber(ElevenLabsAdapter):
    """Transcriber over ElevenLabs Scribe: the words of a user's voice-over with their times."""

    def __init__(
        self,
        api_key: str,
        *,
        model: str = DEFAULT_STT_MODEL,
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

    @classmethod
    def from_settings(
        cls,
        settings: ProviderSettings,
        *,
        model: str | None = None,
        runtime: ProviderRuntime | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> ElevenLabsTranscriber:
        key = settings.key("elevenlabs")
        if key is None:
            raise BadInput(KEY_ENV, f"{NO_KEY}; a voice.file needs it to time the captions")
        return cls(key, model=model or DEFAULT_STT_MODEL, runtime=runtime, client=client)

    def transcribe(self, audio: Path, *, locale: str | None = None) -> Speech:
        """See ``Transcriber.transcribe``."""
        return run_sync(self.atranscribe(audio, locale=locale))

    async def atranscribe(self, audio: Path, *, locale: str | None = None) -> Speech:
        info = audio_info(audio)
        content = audio.read_bytes()
        fields = {
            "model_id": self.model,
            "timestamps_granularity": "word",
            "tag_audio_events": "false",  # "(laughter)" is no word to caption
        }
        if locale:
            fields["language_code"] = language_code(locale)
        key = cache_key(
            self.name,
            self.model,
            params={k: v for k, v in fields.items() if k != "model_id"},
            inputs=[content],
        )
        self.meter.check(self.name, self.model)
        async with self._claim(key):
            hit = self.cache.get(key) if self.cache else None
            if hit is not None:
                self.meter.cached(self.name, self.model, what="transcript")
                words = words_from_scribe(hit.meta.get("words"))
            else:
                async with self._session() as api:
                    data = await api.json(
                        "POST",
                        f"{self._base}/v1/speech-to-text",
                        headers=self._headers,
                        data=fields,
                        files={"file": (audio.name, content, "application/octet-stream")},
                        timeout=TIMEOUT,
                    )
                if not isinstance(data, dict) or not isinstance(data.get("words"), list):
                    raise ProviderError(self.name, "speech-to-text answered without a words list")
                raw_words = [w for w in data["words"] if isinstance(w, dict)]
                words = words_from_scribe(raw_words)
                if self.cache is not None:
                    with tempfile.TemporaryDirectory() as tmp:
                        transcript = Path(tmp) / "transcript.txt"
                        transcript.write_text(str(data.get("text") or ""), encoding="utf-8")
                        self.cache.put(
                            key,
                            transcript,
                            provider=self.name,
                            model=self.model,
                            meta={"words": raw_words, "language_code": data.get("language_code")},
                        )
                self.meter.record(self.name, self.model, info.duration / 60, what="transcript")
        if not words:
            raise BadInput("voice.file", f"no speech found in {audio}")
        clipped = tuple(clamp_word(w, info.duration) for w in words)
        return Speech(
            path=audio,
            sample_rate=info.sample_rate,
            duration=info.duration,
            words=clipped,
            voice=f"{self.name}:{self.model}",
            engine=f"{self.name}-scribe",
        )
