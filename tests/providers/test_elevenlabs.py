"""ElevenLabs adapters against httpx.MockTransport, in the shapes ElevenLabs documents:
text-to-speech with timestamps (character alignment → word timings, raw PCM → WAV) and Scribe
speech-to-text (multipart upload → word timings), their error bodies, retries, breaker, cache."""

from __future__ import annotations

import base64
import json
import os
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from pipeline.errors import BadInput
from pipeline.providers.breaker import CircuitBreaker
from pipeline.providers.cache import ProviderCache
from pipeline.providers.elevenlabs import DEFAULT_VOICE_ID, ElevenLabsVoice, parse_voice_map
from pipeline.providers.elevenlabs_scribe import ElevenLabsTranscriber
from pipeline.providers.elevenlabs_words import words_from_alignment
from pipeline.providers.errors import (
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from pipeline.providers.http import RetryPolicy
from pipeline.providers.runtime import ProviderRuntime
from pipeline.providers.usage import UsageMeter
from pipeline.settings import ProviderSettings
from pipeline.voice.wav import write_wav

KEY = "sk_test_0123456789"
RATE = 24000
CHAR_SECONDS = 0.05

Reply = httpx.Response | Exception


class Script:
    """Plays back replies in order (the last one repeats) and records every request."""

    def __init__(self, *replies: Reply) -> None:
        self._replies: Iterator[Reply] = iter(replies)
        self._last: Reply | None = None
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self._last = next(self._replies, self._last)
        assert self._last is not None
        if isinstance(self._last, Exception):
            raise self._last
        return self._last


def alignment_for(text: str, *, step: float = CHAR_SECONDS) -> dict[str, Any]:
    """ElevenLabs' alignment shape: one entry per character of the text as sent."""
    chars = list(text)
    return {
        "characters": chars,
        "character_start_times_seconds": [round(i * step, 3) for i in range(len(chars))],
        "character_end_times_seconds": [round((i + 1) * step, 3) for i in range(len(chars))],
    }


def tts_reply(text: str, **overrides: Any) -> httpx.Response:
    seconds = len(text) * CHAR_SECONDS
    t = np.arange(round(seconds * RATE)) / RATE
    pcm = (0.2 * 32767 * np.sin(2 * np.pi * 220 * t)).astype("<i2").tobytes()
    body: dict[str, Any] = {
        "audio_base64": base64.b64encode(pcm).decode(),
        "alignment": alignment_for(text),
        "normalized_alignment": alignment_for(text),
    }
    body.update(overrides)
    return httpx.Response(200, json=body)


def error(status: int, detail: Any) -> httpx.Response:
    return httpx.Response(status, json={"detail": detail})


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_voice(
    script: Callable[[httpx.Request], httpx.Response],
    *,
    sleeps: Sleeps | None = None,
    breaker: CircuitBreaker | None = None,
    runtime: ProviderRuntime | None = None,
    **options: Any,
) -> ElevenLabsVoice:
    return ElevenLabsVoice(
        KEY,
        client=httpx.AsyncClient(transport=httpx.MockTransport(script)),
        policy=RetryPolicy(max_attempts=3),
        breaker=breaker or CircuitBreaker("elevenlabs"),
        sleep=sleeps if sleeps is not None else Sleeps(),
        runtime=runtime,
        **options,
    )


def make_transcriber(
    script: Callable[[httpx.Request], httpx.Response],
    *,
    runtime: ProviderRuntime | None = None,
    **options: Any,
) -> ElevenLabsTranscriber:
    return ElevenLabsTranscriber(
        KEY,
        client=httpx.AsyncClient(transport=httpx.MockTransport(script)),
        policy=RetryPolicy(max_attempts=3),
        breaker=CircuitBreaker("elevenlabs"),
        sleep=Sleeps(),
        runtime=runtime,
        **options,
    )


@pytest.fixture
def runtime(tmp_path: Path) -> ProviderRuntime:
    return ProviderRuntime(cache=ProviderCache(tmp_path / "cache"), meter=UsageMeter())


# -- text to speech -------------------------------------------------------------------------


def test_speech_request_has_the_documented_shape(tmp_path: Path) -> None:
    text = "Crema stays hot."
    script = Script(tts_reply(text))
    speech = make_voice(script).synthesize(text, locale="en", out=tmp_path / "v.wav", rate=175)

    (request,) = script.requests
    assert request.method == "POST"
    assert request.url.host == "api.elevenlabs.io"
    assert request.url.path == f"/v1/text-to-speech/{DEFAULT_VOICE_ID}/with-timestamps"
    assert request.url.params["output_format"] == "pcm_24000"
    assert request.headers["xi-api-key"] == KEY
    body = json.loads(request.content)
    assert body["text"] == text
    assert body["model_id"] == "eleven_multilingual_v2"
    assert body["voice_settings"]["speed"] == 1.0
    assert {"stability", "similarity_boost"} <= set(body["voice_settings"])
    assert "language_code" not in body  # multilingual v2 rejects it
    assert speech.voice == f"elevenlabs:{DEFAULT_VOICE_ID}"


def test_raw_pcm_becomes_a_mono_16_bit_wav(tmp_path: Path) -> None:
    text = "Crema stays hot."
    out = tmp_path / "v.wav"
    speech = make_voice(Script(tts_reply(text))).synthesize(text, locale="en", out=out)
    with wave.open(str(out), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        frames = wav.getnframes()
    assert frames == round(len(text) * CHAR_SECONDS * RATE)
    assert speech.sample_rate == RATE
    assert speech.duration == pytest.approx(frames / RATE)
    assert speech.path == out
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temp file left"


def test_character_alignment_becomes_word_timings(tmp_path: Path) -> None:
    text = "Hello, world! Keeps crema hot."
    speech = make_voice(Script(tts_reply(text))).synthesize(
        text, locale="en", out=tmp_path / "v.wav"
    )
    assert [w.text for w in speech.words] == ["Hello,", "world!", "Keeps", "crema", "hot."]
    first, second = speech.words[0], speech.words[1]
    # "Hello," = characters 0-5; "world!" = characters 7-12
    assert (first.start, first.end) == pytest.approx((0.0, 6 * CHAR_SECONDS))
    assert (second.start, second.end) == pytest.approx((7 * CHAR_SECONDS, 13 * CHAR_SECONDS))
    assert speech.words[-1].end == pytest.approx(len(text) * CHAR_SECONDS)


def test_unspoken_tokens_join_a_neighbouring_word_as_the_offline_voice_does() -> None:
    text = "— Hot — and strong ..."
    words = words_from_alignment(alignment_for(text), duration=10)
    assert [w.text for w in words] == ["— Hot —", "and", "strong ..."]
    assert " ".join(w.text for w in words) == text
    assert words[0].start == pytest.approx(2 * CHAR_SECONDS)  # "Hot", not the dash, starts it
    assert words[0].end == pytest.approx(5 * CHAR_SECONDS)


def test_alignment_entries_of_several_characters_are_followed() -> None:
    alignment = {
        "characters": ["Ca", "f", "é", " ", "au", " lait"],
        "character_start_times_seconds": [0.0, 0.2, 0.3, 0.4, 0.5, 0.7],
        "character_end_times_seconds": [0.2, 0.3, 0.4, 0.5, 0.7, 1.2],
    }
    words = words_from_alignment(alignment, duration=1.0)
    assert [(w.text, w.start, w.end) for w in words] == [
        ("Café", 0.0, 0.4),
        ("au", 0.5, 0.7),
        ("lait", 0.7, 1.0),  # clipped to the audio's length
    ]


def test_normalized_alignment_stands_in_when_alignment_is_absent(tmp_path: Path) -> None:
    text = "Only 24 dollars"
    reply = tts_reply(text, alignment=None)
    speech = make_voice(Script(reply)).synthesize(text, locale="en", out=tmp_path / "v.wav")
    assert [w.text for w in speech.words] == ["Only", "24", "dollars"]


@pytest.mark.parametrize(
    ("rate", "speed"), [(175, 1.0), (200, 1.143), (300, 1.2), (100, 0.7), (None, None)]
)
def test_rate_becomes_speed_within_elevenlabs_range(
    tmp_path: Path, rate: int | None, speed: float | None
) -> None:
    script = Script(tts_reply("Hot cup"))
    make_voice(script).synthesize("Hot cup", locale="en", out=tmp_path / "v.wav", rate=rate)
    assert json.loads(script.requests[0].content)["voice_settings"].get("speed") == speed


def test_voice_per_brand_locale_and_explicit_voice(tmp_path: Path) -> None:
    voices = parse_voice_map(
        "en=EnVoice000000000001, it-IT=ItVoiceIT0000000001,it=ItVoice000000000001"
    )
    script = Script(tts_reply("Ciao"))
    voice = make_voice(script, voices=voices)
    voice.synthesize("Ciao", locale="it-IT", out=tmp_path / "a.wav")
    voice.synthesize("Ciao", locale="it-CH", out=tmp_path / "b.wav")
    voice.synthesize("Ciao", locale="en-US", out=tmp_path / "c.wav")
    voice.synthesize("Ciao", locale="de", out=tmp_path / "d.wav")
    voice.synthesize("Ciao", locale="it", out=tmp_path / "e.wav", voice="pNInz6obpgDQGcFmaJgB")
    ids = [r.url.path.split("/")[3] for r in script.requests]
    assert ids == [
        "ItVoiceIT0000000001",
        "ItVoice000000000001",
        "EnVoice000000000001",
        DEFAULT_VOICE_ID,
        "pNInz6obpgDQGcFmaJgB",
    ]


def test_language_code_goes_only_to_models_that_enforce_a_language(tmp_path: Path) -> None:
    script = Script(tts_reply("Ciao"))
    make_voice(script, model="eleven_turbo_v2_5").synthesize(
        "Ciao", locale="it-IT", out=tmp_path / "v.wav"
    )
    body = json.loads(script.requests[0].content)
    assert body["model_id"] == "eleven_turbo_v2_5" and body["language_code"] == "it"


@pytest.mark.parametrize("spec", ["en", "en=", "=abc", "en=bad id!"])
def test_a_malformed_voice_map_names_its_variable(spec: str) -> None:
    with pytest.raises(BadInput) as info:
        parse_voice_map(spec)
    assert info.value.where == "REELFORGE_ELEVENLABS_VOICES"


@pytest.mark.parametrize(("voice", "problem"), [("  ", "is empty"), ("../x", "voice id")])
def test_a_bad_voice_name_is_refused_before_any_call(
    tmp_path: Path, voice: str, problem: str
) -> None:
    script = Script(tts_reply("x"))
    with pytest.raises(BadInput, match=problem):
        make_voice(script).synthesize("Hot", locale="en", out=tmp_path / "v.wav", voice=voice)
    assert not script.requests


@pytest.mark.parametrize("text", ["", "   ", "— ..."])
def test_nothing_to_speak_is_bad_input_without_a_call(tmp_path: Path, text: str) -> None:
    script = Script(tts_reply("x"))
    with pytest.raises(BadInput, match="no text to speak"):
        make_voice(script).synthesize(text, locale="en", out=tmp_path / "v.wav")
    assert not script.requests


def test_from_settings_reads_key_model_and_voice_map(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEVENLABS_API_KEY", KEY)
    monkeypatch.setenv("REELFORGE_VOICE_MODEL", "eleven_flash_v2_5")
    monkeypatch.setenv("REELFORGE_ELEVENLABS_VOICES", "it=ItVoice000000000001")
    voice = ElevenLabsVoice.from_settings(ProviderSettings.from_env(os.environ))
    assert (voice.name, voice.model) == ("elevenlabs", "eleven_flash_v2_5")
    assert voice.voice_for("it-IT") == "ItVoice000000000001"
    assert voice.voice_for("fr") == DEFAULT_VOICE_ID
    assert ElevenLabsTranscriber.from_settings(ProviderSettings.from_env(os.environ)).model == "scribe_v2"


@pytest.mark.parametrize("cls", [ElevenLabsVoice, ElevenLabsTranscriber])
def test_a_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch, cls: Any) -> None:
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    with pytest.raises(BadInput) as info:
        cls.from_settings(ProviderSettings.from_env(os.environ))
    assert info.value.where == "ELEVENLABS_API_KEY" and "is not set" in info.value.problem


def test_an_invalid_key_fails_with_elevenlabs_own_words(tmp_path: Path) -> None:
    script = Script(error(401, {"status": "invalid_api_key", "message": "Invalid API key"}))
    with pytest.raises(ProviderRejected) as info:
        make_voice(script).synthesize("Hot", locale="en", out=tmp_path / "v.wav")
    assert info.value.status == 401 and info.value.provider_message == "Invalid API key"
    assert "Invalid API key" in str(info.value)
    assert len(script.requests) == 1  # a rejection is not retried
    assert not (tmp_path / "v.wav").exists()


def test_an_unknown_model_and_a_validation_error_say_what_is_wrong(tmp_path: Path) -> None:
    unknown = error(
        400,
        {
            "type": "validation_error",
            "code": "invalid_parameters",
            "message": "Model 'eleven_nope' does not exist.",
            "status": "invalid_parameters",
            "request_id": "3c807fc4c3a1705f9638ecc764a91c01",
            "param": "model_id",
        },
    )
    with pytest.raises(ProviderRejected, match="Model 'eleven_nope' does not exist"):
        make_voice(Script(unknown), model="eleven_nope").synthesize(
            "Hot", locale="en", out=tmp_path / "v.wav"
        )
    invalid = error(
        422, [{"loc": ["body", "text"], "msg": "field required", "type": "value_error.missing"}]
    )
    with pytest.raises(ProviderRejected, match="field required") as info:
        make_voice(Script(invalid)).synthesize("Hot", locale="en", out=tmp_path / "v.wav")
    assert info.value.status == 422


def test_a_quota_refusal_is_surfaced(tmp_path: Path) -> None:
    message = "You have insufficient quota to complete this request"
    script = Script(error(401, {"status": "quota_exceeded", "message": message}))
    with pytest.raises(ProviderRejected, match=message):
        make_voice(script).synthesize("Hot", locale="en", out=tmp_path / "v.wav")


def test_a_429_storm_retries_then_reports_rate_limited(tmp_path: Path) -> None:
    busy = error(
        429,
        {"status": "too_many_concurrent_requests", "message": "Too many concurrent requests"},
    )
    sleeps = Sleeps()
    script = Script(busy)
    with pytest.raises(ProviderRateLimited, match="Too many concurrent requests"):
        make_voice(script, sleeps=sleeps).synthesize("Hot", locale="en", out=tmp_path / "v.wav")
    assert len(script.requests) == 3 and len(sleeps) == 2


def test_a_429_then_success_speaks(tmp_path: Path, runtime: ProviderRuntime) -> None:
    busy = error(429, {"code": "rate_limit_exceeded", "message": "slow down"})
    script = Script(busy, tts_reply("Hot cup"))
    speech = make_voice(script, runtime=runtime).synthesize(
        "Hot cup", locale="en", out=tmp_path / "v.wav"
    )
    assert [w.text for w in speech.words] == ["Hot", "cup"]
    assert runtime.meter.calls == 1  # only the call that spoke is paid


def test_timeouts_exhaust_retries_as_unavailable(tmp_path: Path) -> None:
    script = Script(httpx.ReadTimeout("read timed out"))
    with pytest.raises(ProviderUnavailable, match="ReadTimeout"):
        make_voice(script).synthesize("Hot", locale="en", out=tmp_path / "v.wav")
    assert len(script.requests) == 3


def test_provider_down_opens_the_breaker_and_later_calls_fail_fast(tmp_path: Path) -> None:
    breaker = CircuitBreaker("elevenlabs", failure_threshold=2)
    script = Script(httpx.Response(503, text="upstream connect error"))
    voice = make_voice(script, breaker=breaker)
    for _ in range(2):
        with pytest.raises(ProviderUnavailable, match="HTTP 503"):
            voice.synthesize("Hot", locale="en", out=tmp_path / "v.wav")
    sent = len(script.requests)
    with pytest.raises(ProviderUnavailable, match="circuit open"):
        voice.synthesize("Hot", locale="en", out=tmp_path / "v.wav")
    assert len(script.requests) == sent


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(200, text="<html>gateway</html>"),
        httpx.Response(200, json={"alignment": alignment_for("Hot")}),
        httpx.Response(200, json={"audio_base64": "***", "alignment": alignment_for("Hot")}),
        httpx.Response(200, json={"audio_base64": "", "alignment": alignment_for("Hot")}),
        tts_reply("Hot", alignment=None, normalized_alignment=None),
        tts_reply("Hot", alignment={"characters": ["H"], "character_start_times_seconds": []}),
        tts_reply("Hot", alignment=alignment_for(""), normalized_alignment=None),
    ],
    ids=["not-json", "no-audio", "bad-base64", "empty-audio", "no-alignment", "ragged", "no-words"],
)
def test_a_malformed_answer_is_a_provider_error(tmp_path: Path, reply: httpx.Response) -> None:
    with pytest.raises(ProviderError):
        make_voice(Script(reply)).synthesize("Hot", locale="en", out=tmp_path / "v.wav")
    assert not (tmp_path / "v.wav").exists()


def test_the_same_line_is_never_paid_twice(tmp_path: Path, runtime: ProviderRuntime) -> None:
    text = "Double-walled porcelain keeps crema hot."
    script = Script(tts_reply(text))
    first = make_voice(script, runtime=runtime).synthesize(
        text, locale="en", out=tmp_path / "a.wav"
    )
    # A new adapter (another job) with the same cache: no request at all.
    again = Script()
    second = make_voice(again, runtime=runtime).synthesize(
        text, locale="en", out=tmp_path / "b.wav"
    )
    assert len(script.requests) == 1 and not again.requests
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()
    assert second.words == first.words and second.duration == first.duration
    paid, hit = runtime.meter.usages
    assert (paid.cached, paid.units, paid.unit, paid.what) == (
        False,
        len(text) / 1000,
        "1k_chars",
        "voice",
    )
    assert hit.cached and hit.credits == 0


def test_a_different_voice_or_speed_is_a_new_question(
    tmp_path: Path, runtime: ProviderRuntime
) -> None:
    script = Script(tts_reply("Hot cup"))
    voice = make_voice(script, runtime=runtime)
    voice.synthesize("Hot cup", locale="en", out=tmp_path / "a.wav", rate=175)
    voice.synthesize("Hot cup", locale="en", out=tmp_path / "b.wav", rate=200)
    voice.synthesize("Hot cup", locale="en", out=tmp_path / "c.wav", voice="pNInz6obpgDQGcFmaJgB")
    voice.synthesize("Hot cup", locale="en", out=tmp_path / "d.wav", rate=175)
    assert len(script.requests) == 3


# -- speech to text (Scribe) ----------------------------------------------------------------


@pytest.fixture
def voiceover(tmp_path: Path) -> Path:
    """Two seconds of 16 kHz mono tone: any readable audio file will do for the mock."""
    path = tmp_path / "my voice.wav"
    t = np.arange(32000) / 16000
    write_wav(path, (0.2 * 32767 * np.sin(2 * np.pi * 200 * t)).astype(np.int16), 16000)
    return path


SCRIBE = {
    "language_code": "eng",
    "language_probability": 0.98,
    "text": "Hello, world! (laughter) Hot.",
    "words": [
        {"text": "Hello,", "start": 0.12, "end": 0.5, "type": "word", "speaker_id": "speaker_0"},
        {"text": " ", "start": 0.5, "end": 0.55, "type": "spacing", "speaker_id": "speaker_0"},
        {"text": "world!", "start": 0.55, "end": 0.9, "type": "word", "speaker_id": "speaker_0"},
        {"text": " ", "start": 0.9, "end": 1.0, "type": "spacing", "speaker_id": "speaker_0"},
        {
            "text": "(laughter)",
            "start": 1.0,
            "end": 1.3,
            "type": "audio_event",
            "speaker_id": "speaker_0",
        },
        {"text": "Hot", "start": 1.4, "end": 1.7, "type": "word", "speaker_id": "speaker_0"},
        {"text": ".", "start": 1.7, "end": 1.7, "type": "punctuation", "speaker_id": "speaker_0"},
        {"text": "—", "start": 1.7, "end": 1.8, "type": "word", "speaker_id": "speaker_0"},
    ],
}


def test_transcription_request_is_a_documented_multipart_upload(voiceover: Path) -> None:
    script = Script(httpx.Response(200, json=SCRIBE))
    make_transcriber(script).transcribe(voiceover, locale="en-US")
    (request,) = script.requests
    assert request.method == "POST"
    assert str(request.url) == "https://api.elevenlabs.io/v1/speech-to-text"
    assert request.headers["xi-api-key"] == KEY
    assert request.headers["content-type"].startswith("multipart/form-data")
    body = request.content
    for name, value in [
        ("model_id", b"scribe_v2"),
        ("timestamps_granularity", b"word"),
        ("language_code", b"en"),
        ("tag_audio_events", b"false"),
    ]:
        assert f'name="{name}"\r\n\r\n'.encode() + value in body
    assert b'name="file"; filename="my voice.wav"' in body
    assert voiceover.read_bytes() in body


def test_transcribed_words_keep_their_times_and_drop_spacing_and_events(voiceover: Path) -> None:
    speech = make_transcriber(Script(httpx.Response(200, json=SCRIBE))).transcribe(voiceover)
    assert [(w.text, w.start, w.end) for w in speech.words] == [
        ("Hello,", 0.12, 0.5),
        ("world!", 0.55, 0.9),
        ("Hot. —", 1.4, 1.7),
    ]
    assert speech.path == voiceover
    assert speech.duration == pytest.approx(2.0) and speech.sample_rate == 16000
    assert speech.voice == "elevenlabs:scribe_v2"


def test_a_transcribed_file_is_paid_by_the_minute_and_never_twice(
    voiceover: Path, runtime: ProviderRuntime
) -> None:
    script = Script(httpx.Response(200, json=SCRIBE))
    first = make_transcriber(script, runtime=runtime).transcribe(voiceover, locale="en")
    again = Script()
    second = make_transcriber(again, runtime=runtime).transcribe(voiceover, locale="en")
    assert len(script.requests) == 1 and not again.requests
    assert second.words == first.words
    paid, hit = runtime.meter.usages
    assert (paid.model, paid.unit, paid.what) == ("scribe_v2", "minute", "transcript")
    assert paid.units == pytest.approx(2.0 / 60)
    assert hit.cached


def test_silence_is_bad_input(voiceover: Path) -> None:
    quiet = {
        **SCRIBE,
        "text": "",
        "words": [{"text": "(music)", "start": 0, "end": 2, "type": "audio_event"}],
    }
    with pytest.raises(BadInput, match="no speech found"):
        make_transcriber(Script(httpx.Response(200, json=quiet))).transcribe(voiceover)


def test_an_unreadable_file_is_bad_input_before_any_call(tmp_path: Path) -> None:
    junk = tmp_path / "voice.mp3"
    junk.write_bytes(b"this is not audio" * 100)
    script = Script(httpx.Response(200, json=SCRIBE))
    with pytest.raises(BadInput) as info:
        make_transcriber(script).transcribe(junk)
    assert info.value.where == "voice.file" and not script.requests


def test_transcription_errors_are_surfaced(voiceover: Path) -> None:
    script = Script(error(401, {"status": "invalid_api_key", "message": "Invalid API key"}))
    with pytest.raises(ProviderRejected, match="Invalid API key"):
        make_transcriber(script).transcribe(voiceover)
    with pytest.raises(ProviderError, match="words"):
        make_transcriber(Script(httpx.Response(200, json={"text": "hi"}))).transcribe(voiceover)
    with pytest.raises(ProviderError, match="malformed JSON"):
        make_transcriber(Script(httpx.Response(200, text="oops"))).transcribe(voiceover)
