"""HeyGen's answers read into ours: the ``data`` of a reply, a video's status (polled or sent to
the webhook) as a TaskStatus, and the avatar and voice listings.

API (HeyGen API v2), from https://docs.heygen.com/reference/list-avatars-v2,
https://docs.heygen.com/reference/video-status,
https://docs.heygen.com/docs/using-heygens-webhook-events, https://docs.heygen.com/reference/errors
and, for List All Voices (V2), HeyGen's own API skill (github.com/heygen-com/skills,
skills/heygen/references/voices.md):

- ``GET https://api.heygen.com/v2/avatars`` → ``{error, data: {avatars: [{avatar_id, avatar_name,
  gender, preview_image_url, preview_video_url, premium, ...}], talking_photos: [...]}}``.
- ``GET https://api.heygen.com/v2/voices`` → ``{error, data: {voices: [{voice_id, language,
  gender, name, preview_audio, support_pause, emotion_support}]}}``.
- ``GET https://api.heygen.com/v1/video_status.get?video_id=`` → ``{code: 100, data: {id, status:
  "waiting"|"pending"|"processing"|"completed"|"failed", video_url, duration, callback_id,
  error: {code, message, detail} | null, ...}, message}``; ``video_url`` expires after 7 days.
- Callbacks (webhook events): ``{event_type: "avatar_video.success", event_data: {video_id, url,
  callback_id}}`` and ``{event_type: "avatar_video.fail", event_data: {video_id, msg,
  callback_id}}``.
- Errors: ``{error: {code, message}}`` with HTTP 4xx, e.g. 40009 ``INVALID_CREDENTIALS``,
  400112 ``UNAUTHORIZED``, 400105 ``BLOCKED_WORDS_DETECTED`` (content moderation), 40039
  ``INVALID_TEXT_INPUT``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from pipeline.providers.errors import ProviderError, ProviderRejected
from pipeline.providers.tasks import TaskState, TaskStatus

__all__ = [
    "HeyGenAvatar",
    "HeyGenVoice",
    "avatars",
    "event_status",
    "response_data",
    "video_status",
    "voices",
]

_log = logging.getLogger(__name__)

# Content moderation, by HeyGen's error code or its words.
_REFUSAL_CODES = frozenset({"400105", "40039"})
_REFUSAL_WORDS = re.compile(r"moderat|blocked word|inappropriate|policy|violat", re.IGNORECASE)
_STATES = {
    "waiting": TaskState.QUEUED,
    "pending": TaskState.QUEUED,
    "processing": TaskState.RUNNING,
    "completed": TaskState.SUCCEEDED,
    "failed": TaskState.FAILED,
}


class HeyGenAvatar(BaseModel):
    """One of the account's avatars, for choosing ``HEYGEN_AVATAR_ID``."""

    model_config = ConfigDict(frozen=True)

    avatar_id: str
    name: str
    gender: str = ""
    preview_image_url: str = ""
    premium: bool = False


class HeyGenVoice(BaseModel):
    """One of HeyGen's text-to-speech voices, for choosing ``HEYGEN_VOICE_ID``."""

    model_config = ConfigDict(frozen=True)

    voice_id: str
    name: str
    language: str = ""
    gender: str = ""
    preview_audio: str = ""


def _refused(code: Any, message: str) -> bool:
    return str(code) in _REFUSAL_CODES or bool(_REFUSAL_WORDS.search(message))


def response_data(name: str, what: str, body: Any) -> dict[str, Any]:
    """``body["data"]`` of a 2xx answer; an ``error`` in it (HeyGen sometimes answers 200 with one)
    becomes ProviderRejected in HeyGen's words."""
    if not isinstance(body, dict):
        raise ProviderError(name, f"{what} returned an unusable reply")
    error = body.get("error")
    if error:
        if isinstance(error, dict):
            message = str(error.get("message") or error.get("detail") or error.get("code"))
        else:
            message = str(error)
        raise ProviderRejected(name, f"{what} was rejected: {message}", provider_message=message)
    data = body.get("data")
    if not isinstance(data, dict):
        said = body.get("message") or body.get("msg")
        raise ProviderError(name, f"{what} returned no data" + (f": {said}" if said else ""))
    return data


def avatars(data: Mapping[str, Any]) -> list[HeyGenAvatar]:
    """The avatars of a ``/v2/avatars`` reply's data."""
    items = data.get("avatars") or []
    return [
        HeyGenAvatar(
            avatar_id=str(a["avatar_id"]),
            name=str(a.get("avatar_name") or a["avatar_id"]),
            gender=str(a.get("gender") or ""),
            preview_image_url=str(a.get("preview_image_url") or ""),
            premium=bool(a.get("premium")),
        )
        for a in items
        if isinstance(a, dict) and a.get("avatar_id")
    ]


def voices(data: Mapping[str, Any]) -> list[HeyGenVoice]:
    """The voices of a ``/v2/voices`` reply's data."""
    items = data.get("voices") or []
    return [
        HeyGenVoice(
            voice_id=str(v["voice_id"]),
            name=str(v.get("name") or v["voice_id"]),
            language=str(v.get("language") or ""),
            gender=str(v.get("gender") or ""),
            preview_audio=str(v.get("preview_audio") or ""),
        )
        for v in items
        if isinstance(v, dict) and v.get("voice_id")
    ]


def video_status(name: str, task_id: str, data: Mapping[str, Any]) -> TaskStatus:
    """The status of video ``task_id`` from a ``video_status.get`` reply's data."""
    raw = str(data.get("status") or "")
    state = _STATES.get(raw)
    if state is None:
        _log.warning("heygen: video %s has unknown status %r; still waiting", task_id, raw)
        state = TaskState.RUNNING
    if state is TaskState.SUCCEEDED and not data.get("video_url"):
        raise ProviderError(name, f"video {task_id} completed without a video_url")
    error = data.get("error") if isinstance(data.get("error"), dict) else None
    reason: str | None = None
    refused = False
    if state is TaskState.FAILED:
        if error:
            parts = [str(error.get(k)) for k in ("message", "detail") if error.get(k)]
            reason = ": ".join(dict.fromkeys(parts)) or str(error.get("code") or "")
            refused = _refused(error.get("code"), reason)
        reason = reason or "HeyGen gave no reason"
    duration = data.get("duration")
    return TaskStatus(
        task_id=task_id,
        state=state,
        result_url=str(data["video_url"]) if state is TaskState.SUCCEEDED else None,
        duration=float(duration) if isinstance(duration, int | float) else None,
        error=reason,
        refused=refused,
    )


def event_status(payload: Mapping[str, Any]) -> TaskStatus | None:
    """An ``avatar_video.success`` / ``.fail`` webhook event; None for anything else."""
    event = payload.get("event_type")
    data = payload.get("event_data")
    if not isinstance(data, Mapping) or not data.get("video_id"):
        return None
    video_id = str(data["video_id"])
    if event == "avatar_video.success" and data.get("url"):
        return TaskStatus(task_id=video_id, state=TaskState.SUCCEEDED, result_url=str(data["url"]))
    if event == "avatar_video.fail":
        reason = str(data.get("msg") or data.get("message") or "HeyGen gave no reason")
        return TaskStatus(
            task_id=video_id,
            state=TaskState.FAILED,
            error=reason,
            refused=_refused(None, reason),
        )
    return None
