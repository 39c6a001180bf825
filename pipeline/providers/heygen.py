"""HeyGen talking-avatar presenter scenes: the scene's own voice line, lip-synced by an avatar.

API (HeyGen API v2, header ``X-Api-Key: <key>`` on every call), from
https://docs.heygen.com/reference/create-an-avatar-video-v2,
https://docs.heygen.com/reference/upload-asset and, for audio assets and silent voices, HeyGen's
own API skill (github.com/heygen-com/skills, skills/heygen/references/assets.md and
video-generation.md):

- ``POST https://upload.heygen.com/v1/asset`` with the raw file as the body and its type as
  ``Content-Type`` (``audio/wav`` and ``audio/mpeg`` for audio) → ``{code: 100, data: {id, name,
  file_type, url, ...}, msg, message}``.
- ``POST https://api.heygen.com/v2/video/generate`` with ``{video_inputs: [{character: {type:
  "avatar", avatar_id, avatar_style}, voice: {type: "text", input_text, voice_id, speed} |
  {type: "audio", audio_asset_id} | {type: "silence", duration}, background: {type: "color",
  value: "#rrggbb"}}],
  dimension: {width, height}, title?, callback_id?, callback_url?}`` → ``{error: null, data:
  {video_id}}``.

Replies, video statuses, webhook events and listings are read in
:mod:`pipeline.providers.heygen_replies`.

The voice-over WAV of the scene is uploaded as an asset, so the avatar says exactly what the
soundtrack says; without one, HeyGen's own text-to-speech speaks the scene's line. A video lasts
as long as its audio, so the WAV is padded with silence to the scene's length (the avatar keeps
presenting through it) and the clip covers the scene. HeyGen's own voice (no WAV) is not padded:
that video lasts as long as HeyGen reads the line, which may be shorter than the scene.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
import re
import wave
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from pipeline.errors import BadInput, MediaError
from pipeline.formats import Format
from pipeline.media.probe import probe
from pipeline.providers.breaker import CircuitBreaker, breaker_for
from pipeline.providers.cache import CachedAsset, cache_key
from pipeline.providers.connections import provider_session
from pipeline.providers.errors import ProviderError, ProviderRejected
from pipeline.providers.fetch import fetch_result
from pipeline.providers.heygen_replies import (
    HeyGenAvatar,
    HeyGenVoice,
    avatars,
    event_status,
    response_data,
    video_status,
    voices,
)
from pipeline.providers.http import AsyncProviderClient, RetryPolicy
from pipeline.providers.runtime import ProviderRuntime
from pipeline.providers.tasks import TaskStatus, run_task
from pipeline.settings import ProviderSettings
from pipeline.timeline import VideoClip
from pipeline.visuals.port import ClipContext, ClipRequest

__all__ = ["API_URL", "UPLOAD_URL", "HeyGenPresenter", "dimension_for"]

_log = logging.getLogger(__name__)

API_URL = "https://api.heygen.com"
UPLOAD_URL = "https://upload.heygen.com/v1/asset"
# HeyGen says a render takes 5 to 15 minutes, sometimes over 20: wait up to 40 before giving up.
RENDER_DEADLINE = 40 * 60.0
KEY_ENV = "HEYGEN_API_KEY"
AVATAR_ENV = "HEYGEN_AVATAR_ID"
VOICE_ENV = "HEYGEN_VOICE_ID"

# HeyGen renders any width x height; 720p is the free API plan's limit. Portrait formats share
# one render (the compositor covers 4x5 by trimming the top and bottom of the 9x16 frame), so a
# 9x16 and a 4x5 render of the same scene pay once.
_ASPECT: dict[Format, tuple[int, int]] = {
    Format.V9X16: (9, 16),
    Format.V4X5: (9, 16),
    Format.V1X1: (1, 1),
    Format.V16X9: (16, 9),
}
_AUDIO_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg"}
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def dimension_for(fmt: Format, short_side: int = 720) -> tuple[int, int]:
    """The ``(width, height)`` HeyGen renders for ``fmt``: its aspect with ``short_side``."""
    w, h = _ASPECT[fmt]
    unit = short_side / min(w, h)
    return round(w * unit / 2) * 2, round(h * unit / 2) * 2


@dataclass(frozen=True)
class _Line:
    voice: dict[str, Any]  # the ``voice`` of the request body
    text: str = ""
    audio: bytes | None = None
    content_type: str = ""


class HeyGenPresenter:
    """HeyGen avatar videos as a :class:`~pipeline.providers.runtime.SceneSource` for presenter
    scenes and a :class:`~pipeline.providers.tasks.TaskProvider` for :func:`run_task`.

    Billing is per second of video (``heygen`` rows of the price table).
    """

    name = "heygen"

    def __init__(
        self,
        api_key: str,
        *,
        avatar_id: str | None = None,
        voice_id: str | None = None,
        model: str = "v2",
        avatar_style: str = "normal",
        speed: float = 1.0,
        short_side: int = 720,
        client: httpx.AsyncClient | None = None,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        render_deadline: float = RENDER_DEADLINE,
    ) -> None:
        if not api_key.strip():
            raise BadInput(KEY_ENV, "is empty")
        # the least time a render is waited for (the runtime's task deadline, if longer, wins)
        self.render_deadline = render_deadline
        self.model = model
        self.avatar_id = avatar_id or None
        self.voice_id = voice_id or None
        self.avatar_style = avatar_style
        self.speed = speed
        self.short_side = short_side
        self._key = api_key.strip()
        self._client = client
        self._policy = policy
        self._breaker = breaker or breaker_for(self.name)
        self._sleep = sleep

    @classmethod
    def from_settings(
        cls,
        settings: ProviderSettings,
        *,
        model: str | None = None,
        avatar_id: str | None = None,
        voice_id: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> HeyGenPresenter:
        key = settings.key("heygen")
        if key is None:
            raise BadInput(
                KEY_ENV, "is not set; create an API key in HeyGen's settings (Settings → API)"
            )
        return cls(
            key,
            model=model or "v2",
            avatar_id=avatar_id or settings.heygen_avatar_id,
            voice_id=voice_id or settings.heygen_voice_id,
            client=client,
        )

    # -- plumbing ---------------------------------------------------------------------------

    def _session(self) -> contextlib.AbstractAsyncContextManager[AsyncProviderClient]:
        return provider_session(
            self.name, self._client, policy=self._policy, breaker=self._breaker, sleep=self._sleep,
        )  # fmt: skip

    @property
    def _auth(self) -> dict[str, str]:
        return {"X-Api-Key": self._key}

    async def _json(
        self, session: AsyncProviderClient, method: str, url: str, **kwargs: Any
    ) -> Any:
        headers = {**self._auth, **kwargs.pop("headers", {})}
        try:
            return await session.json(method, url, headers=headers, **kwargs)
        except ProviderRejected as exc:
            if exc.status not in (401, 403):
                raise
            raise ProviderRejected(
                self.name,
                f"{exc.detail.removeprefix('heygen: ')} (check {KEY_ENV})",
                status=exc.status,
                provider_message=exc.provider_message,
            ) from exc

    # -- listings -----------------------------------------------------------------------------

    async def list_avatars(self) -> list[HeyGenAvatar]:
        """The account's avatars (public and its own), for choosing ``HEYGEN_AVATAR_ID``."""
        async with self._session() as session:
            body = await self._json(session, "GET", f"{API_URL}/v2/avatars")
        return avatars(response_data(self.name, "listing avatars", body))

    async def list_voices(self) -> list[HeyGenVoice]:
        """HeyGen's text-to-speech voices, for choosing ``HEYGEN_VOICE_ID``."""
        async with self._session() as session:
            body = await self._json(session, "GET", f"{API_URL}/v2/voices")
        return voices(response_data(self.name, "listing voices", body))

    # -- TaskProvider -----------------------------------------------------------------------

    async def status(self, task_id: str) -> TaskStatus:
        """Polls ``video_status.get``."""
        async with self._session() as session:
            body = await self._json(
                session, "GET", f"{API_URL}/v1/video_status.get", params={"video_id": task_id}
            )
        return video_status(self.name, task_id, response_data(self.name, "video status", body))

    def from_callback(self, payload: Mapping[str, Any]) -> TaskStatus | None:
        """An ``avatar_video.success`` / ``.fail`` webhook event; None for anything else."""
        return event_status(payload)

    # -- SceneSource ------------------------------------------------------------------------

    async def make(
        self,
        request: ClipRequest,
        ctx: ClipContext,
        *,
        workdir: Path,
        runtime: ProviderRuntime,
        attempt: int = 0,
    ) -> VideoClip:
        """The presenter saying the scene's line: lip-synced to ``request.voice`` when given,
        else HeyGen's voice ``voice_id`` reading ``request.spoken``; silent for a scene without
        a line."""
        if not self.avatar_id:
            raise BadInput(AVATAR_ENV, "is not set; pick an avatar_id from HeyGen's avatar list")
        what = f"scene {request.scene_index} {request.spec.format.value}"
        line = await self._line(request)
        voice, text, audio = line.voice, line.text, line.audio
        background = ctx.palette.roles.background
        if not _HEX.match(background):
            raise BadInput("palette", f"background {background!r} is not a #rrggbb colour")
        width, height = dimension_for(request.spec.format, self.short_side)
        character = {
            "type": "avatar",
            "avatar_id": self.avatar_id,
            "avatar_style": self.avatar_style,
        }
        params = {
            "character": character,
            "voice": {k: v for k, v in voice.items() if k != "input_text"},
            "background": {"type": "color", "value": background.lower()},
            "dimension": {"width": width, "height": height},
            "attempt": attempt,
        }
        key = cache_key(
            self.name, self.model, prompt=text, params=params, inputs=[audio] if audio else []
        )
        asset = runtime.cache.get(key)
        if asset is None:
            async with runtime.cache.aclaim(key, provider=self.name):
                asset = runtime.cache.get(key)
                if asset is None:
                    body = {
                        "video_inputs": [
                            {
                                "character": character,
                                "voice": voice,
                                "background": params["background"],
                            }
                        ],
                        "dimension": params["dimension"],
                        "title": f"reelforge {what}",
                        "callback_id": key,
                    }
                    callback = runtime.callback_url(self.name)
                    if callback:
                        body["callback_url"] = callback
                    return await self._generate(
                        key,
                        body,
                        line,
                        workdir=workdir,
                        runtime=runtime,
                        what=what,
                        fallback_seconds=request.duration,
                    )
        runtime.meter.cached(self.name, self.model, what=what)
        return VideoClip(path=asset.path)

    async def _generate(
        self,
        key: str,
        body: dict[str, Any],
        line: _Line,
        *,
        workdir: Path,
        runtime: ProviderRuntime,
        what: str,
        fallback_seconds: float,
    ) -> VideoClip:
        runtime.meter.check(self.name, self.model)
        async with self._session() as session:

            async def submit() -> str:
                if line.audio is not None:
                    asset_id = await self._upload(session, line.audio, line.content_type)
                    body["video_inputs"][0]["voice"] = {"type": "audio", "audio_asset_id": asset_id}
                # once: a lost answer after HeyGen started the (paid) render is not retried
                answer = await self._json(
                    session, "POST", f"{API_URL}/v2/video/generate", once=True, json=body
                )
                video_id = response_data(self.name, "video generate", answer).get("video_id")
                if not video_id:
                    raise ProviderError(self.name, "video generate returned no video_id")
                return str(video_id)

            status = await run_task(
                self,
                key,
                submit,
                journal=runtime.journal,
                inbox=runtime.inbox,
                poll_interval=runtime.poll_interval,
                deadline=max(runtime.task_deadline, self.render_deadline),
                sleep=self._sleep,
            )
            assert status.result_url is not None
            dest = workdir / f".heygen-{status.task_id}.mp4"
            await fetch_result(session, status.result_url, dest)
        try:
            seconds = status.duration or await _seconds(dest) or fallback_seconds
            asset: CachedAsset = runtime.cache.put(
                key,
                dest,
                provider=self.name,
                model=self.model,
                meta={
                    "video_id": status.task_id,
                    "duration": seconds,
                    "request": {k: v for k, v in body.items() if k != "callback_url"},
                },
            )
        finally:
            dest.unlink(missing_ok=True)
        runtime.meter.record(self.name, self.model, seconds, what=what, task_id=status.task_id)
        return VideoClip(path=asset.path)

    async def _line(self, request: ClipRequest) -> _Line:
        """What the presenter says: the voice-over file, HeyGen's voice reading the line, or
        silence for the scene's length when it has no line."""
        if request.voice is not None:
            content_type = _AUDIO_TYPES.get(request.voice.suffix.lower(), "")
            if not content_type:
                raise BadInput(str(request.voice), "HeyGen takes the voice line as WAV or MP3")
            audio = await asyncio.to_thread(request.voice.read_bytes)
            if content_type == "audio/wav":
                # the video lasts as long as its audio: make that the whole scene
                audio = await asyncio.to_thread(_padded_wav, audio, request.duration)
            # the asset id is filled in at submit, after the upload
            return _Line({"type": "audio"}, audio=audio, content_type=content_type)
        text = request.spoken.strip()
        if not text:
            return _Line({"type": "silence", "duration": round(max(request.duration, 1.0), 2)})
        if not self.voice_id:
            raise BadInput(VOICE_ENV, "is not set; pick a voice_id from HeyGen's voice list")
        # Not padded: this video lasts as long as HeyGen reads the line, which can be shorter
        # than the scene (the render always gives presenter scenes the WAV of their line).
        voice = {"type": "text", "input_text": text, "voice_id": self.voice_id, "speed": self.speed}
        return _Line(voice, text=text)

    async def _upload(self, session: AsyncProviderClient, audio: bytes, content_type: str) -> str:
        answer = await self._json(
            session, "POST", UPLOAD_URL, content=audio, headers={"Content-Type": content_type}
        )
        asset_id = response_data(self.name, "audio upload", answer).get("id")
        if not asset_id:
            raise ProviderError(self.name, "audio upload returned no asset id")
        _log.info(
            "heygen: uploaded voice line %s as asset %s",
            hashlib.sha256(audio).hexdigest()[:12],
            asset_id,
        )
        return str(asset_id)


def _padded_wav(audio: bytes, seconds: float) -> bytes:
    """``audio`` (a PCM WAV) with silence appended up to ``seconds``; as is if it is already
    that long, or if it is not a WAV that :mod:`wave` reads (logged: the video will be short)."""
    try:
        with wave.open(io.BytesIO(audio), "rb") as source:
            params = source.getparams()
            frames = source.readframes(params.nframes)
    except (EOFError, wave.Error) as exc:
        _log.warning("heygen: the voice line is not a PCM WAV (%s); it is sent unpadded", exc)
        return audio
    frame_size = params.sampwidth * params.nchannels
    missing = round(seconds * params.framerate) - len(frames) // frame_size
    if missing <= 0:
        return audio
    # silence: 0, or the midpoint for 8-bit samples, which are unsigned
    silent_sample = b"\x80" if params.sampwidth == 1 else b"\x00" * params.sampwidth
    out = io.BytesIO()
    with wave.open(out, "wb") as padded:
        padded.setparams(params)
        padded.writeframes(frames + silent_sample * (params.nchannels * missing))
    return out.getvalue()


async def _seconds(path: Path) -> float | None:
    """The downloaded video's length (callbacks do not say it)."""
    try:
        return (await asyncio.to_thread(probe, path)).duration
    except MediaError:
        return None
