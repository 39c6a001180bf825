"""HeyGenPresenter against httpx.MockTransport, in the shapes of docs.heygen.com (API v2)."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import subprocess
import wave
from pathlib import Path
from typing import Any

import httpx
import imageio_ffmpeg
import pytest
from PIL import Image

from pipeline.errors import BadInput
from pipeline.formats import FORMATS, Format
from pipeline.palette.model import Palette, PaletteRoles, Swatch
from pipeline.providers.breaker import BreakerState, CircuitBreaker
from pipeline.providers.cache import ProviderCache
from pipeline.providers.callbacks import callback_token
from pipeline.providers.errors import ProviderError, ProviderRejected, ProviderUnavailable
from pipeline.providers.heygen import RENDER_DEADLINE, HeyGenPresenter, dimension_for
from pipeline.providers.http import RetryPolicy
from pipeline.providers.runtime import ProviderRuntime
from pipeline.providers.tasks import TaskFailed, TaskJournal, TaskState, TaskTimeout
from pipeline.providers.usage import UsageMeter
from pipeline.settings import ProviderSettings
from pipeline.timeline import VideoClip
from pipeline.visuals.port import ClipContext, ClipRequest

KEY = "NjY3OWQ0YzE4ZjQ0NDQ5YjkxNTc2ZjNh"
AVATAR = "Abigail_expressive_2024112501"
VOICE = "1bd001e7e50f421d891986aad5158bc8"
VIDEO_ID = "ba6c802a4de4418f84272c1fdc0dfaf8"
RESULT = f"https://files2.heygen.ai/aws_pacific/avatarv3/{VIDEO_ID}/video.mp4?Expires=1"
GENERATE = "https://api.heygen.com/v2/video/generate"
UPLOAD = "https://upload.heygen.com/v1/asset"
STATUS = "https://api.heygen.com/v1/video_status.get"
SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


@pytest.fixture(scope="session")
def mp4_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("heygen-media") / "red.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=c=red:s=64x64:d=1",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-y",
            str(out),
        ],
        check=True,
    )
    return out.read_bytes()


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x01" * 1600)
    path = tmp_path / "voice-scene-1.wav"
    path.write_bytes(buffer.getvalue())
    return path


def status_body(status: str, **data: Any) -> dict:
    return {
        "code": 100,
        "data": {
            "callback_id": None,
            "caption_url": None,
            "duration": None,
            "error": None,
            "gif_url": None,
            "id": VIDEO_ID,
            "status": status,
            "thumbnail_url": None,
            "video_url": None,
            "video_url_caption": None,
            **data,
        },
        "message": "Success",
    }


COMPLETED = status_body("completed", duration=7.5, video_url=RESULT)


class HeyGen:
    """HeyGen's API, upload host and file CDN. Status answers play in order (the last repeats);
    ``generate`` and ``upload`` may be overridden with a fixed response."""

    def __init__(
        self,
        mp4: bytes,
        *statuses: dict | httpx.Response,
        generate: httpx.Response | None = None,
        upload: httpx.Response | None = None,
    ) -> None:
        self.mp4 = mp4
        self.statuses = list(statuses) or [COMPLETED]
        self.generate = generate
        self.upload = upload
        self.requests: list[httpx.Request] = []

    def sent(self, url: str) -> list[httpx.Request]:
        return [r for r in self.requests if str(r.url).split("?")[0] == url]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        url = str(request.url).split("?")[0]
        if url == UPLOAD:
            return self.upload or httpx.Response(
                200,
                json={
                    "code": 100,
                    "data": {
                        "id": "asset-7f3e",
                        "name": "asset-7f3e",
                        "file_type": "audio",
                        "folder_id": "",
                        "meta": None,
                        "created_ts": 1722360649,
                        "url": "https://resource2.heygen.ai/audio/asset-7f3e/original.wav",
                    },
                    "msg": None,
                    "message": None,
                },
            )
        if url == GENERATE:
            return self.generate or httpx.Response(
                200, json={"error": None, "data": {"video_id": VIDEO_ID}}
            )
        if url == STATUS:
            reply = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
            return reply if isinstance(reply, httpx.Response) else httpx.Response(200, json=reply)
        if url == "https://api.heygen.com/v2/avatars":
            return httpx.Response(
                200,
                json={
                    "error": None,
                    "data": {
                        "avatars": [
                            {
                                "avatar_id": AVATAR,
                                "avatar_name": "Abigail (Upper Body)",
                                "gender": "female",
                                "preview_image_url": "https://files2.heygen.ai/avatar/v3/a/preview_target.webp",
                                "preview_video_url": "https://files2.heygen.ai/avatar/v3/a/preview_video_target.mp4",
                                "premium": False,
                            },
                            {"avatar_name": "broken entry without an id"},
                        ],
                        "talking_photos": [
                            {"talking_photo_id": "tp1", "talking_photo_name": "Photo"}
                        ],
                    },
                },
            )
        if url == "https://api.heygen.com/v2/voices":
            return httpx.Response(
                200,
                json={
                    "error": None,
                    "data": {
                        "voices": [
                            {
                                "voice_id": VOICE,
                                "name": "Sara",
                                "language": "English",
                                "gender": "female",
                                "preview_audio": "https://files.heygen.ai/voice/sara.mp3",
                                "support_pause": True,
                                "emotion_support": True,
                            }
                        ]
                    },
                },
            )
        if request.url.host == "files2.heygen.ai":
            return httpx.Response(200, content=self.mp4, headers={"Content-Type": "video/mp4"})
        return httpx.Response(404, json={"error": {"code": 404, "message": f"no route {url}"}})


class Inbox:
    def __init__(self, *payloads: dict) -> None:
        self.items = list(payloads)
        self.asked: list[tuple[str, str]] = []

    def payloads(self, provider: str, task_id: str) -> list[dict[str, Any]]:
        self.asked.append((provider, task_id))
        return list(self.items)


def palette() -> Palette:
    return Palette(
        locale="en",
        swatches=(
            Swatch(
                hex="#9caf88", rgb=(156, 175, 136), lab=(69.6, -12.6, 18.4), weight=1.0, name="sage"
            ),
        ),
        roles=PaletteRoles(
            background="#F5EFE6",
            on_background="#111111",
            accent="#1f2a44",
            on_accent="#ffffff",
            caption_text="#ffffff",
            caption_highlight="#f2c94c",
            caption_outline="#111111",
        ),
        source="brand",
    )


def ctx() -> ClipContext:
    return ClipContext(
        photos=[Image.new("RGB", (8, 8))],
        palette=palette(),
        font_path=Path("font.ttf"),
        product_name="Aurora Espresso Cup",
        price="$24.90",
        logo=None,
    )


def clip_request(
    fmt: Format = Format.V9X16,
    *,
    voice: Path | None = None,
    spoken: str = "Hot espresso, every time.",
) -> ClipRequest:
    return ClipRequest(
        scene_index=2,
        kind="photo",
        photo=None,
        text="",
        prompt="Presenter introduces the cup",
        duration=3.0,
        spec=FORMATS[fmt],
        spoken=spoken,
        voice=voice,
    )


class Env:
    def __init__(self, tmp_path: Path, api: HeyGen, **runtime: Any) -> None:
        self.tmp_path = tmp_path
        self.api = api
        self.sleeps: list[float] = []
        self.breaker = CircuitBreaker("heygen", failure_threshold=1, reset_after=60)
        self.meter = UsageMeter()
        self.journal = TaskJournal(tmp_path / "job" / "tasks.json")
        self.runtime = ProviderRuntime(
            cache=ProviderCache(tmp_path / "cache"),
            meter=self.meter,
            journal=self.journal,
            poll_interval=2.0,
            **runtime,
        )

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def presenter(self, **kw: Any) -> HeyGenPresenter:
        # render_deadline 0: the runtime's task deadline alone says how long a render is waited
        options: dict[str, Any] = {"avatar_id": AVATAR, "voice_id": VOICE, "render_deadline": 0.0}
        options.update(kw)
        return HeyGenPresenter(
            KEY,
            client=httpx.AsyncClient(transport=httpx.MockTransport(self.api)),
            breaker=self.breaker,
            sleep=self._sleep,
            policy=RetryPolicy(jitter=0.0),
            **options,
        )

    def make(
        self,
        request: ClipRequest | None = None,
        presenter: HeyGenPresenter | None = None,
        attempt: int = 0,
    ) -> VideoClip:
        async def go() -> VideoClip:
            return await (presenter or self.presenter()).make(
                request or clip_request(),
                ctx(),
                workdir=self.tmp_path / "work",
                runtime=self.runtime,
                attempt=attempt,
            )

        return asyncio.run(go())


def body(request: httpx.Request) -> dict[str, Any]:
    return json.loads(request.content)


def frames_of(data: bytes) -> bytes:
    with wave.open(io.BytesIO(data), "rb") as w:
        return w.readframes(w.getnframes())


def seconds_of(data: bytes) -> float:
    with wave.open(io.BytesIO(data), "rb") as w:
        return w.getnframes() / w.getframerate()


# -- the contract ------------------------------------------------------------------------------


def test_voice_line_is_uploaded_and_lip_synced_with_a_callback(
    tmp_path: Path, mp4_bytes: bytes, wav: Path
) -> None:
    api = HeyGen(
        mp4_bytes,
        status_body("waiting"),
        status_body("pending"),
        status_body("processing"),
        COMPLETED,
    )
    env = Env(
        tmp_path,
        api,
        callback_base="https://reelforge.example.com/",
        job_id="job-42",
        callback_secrets={"heygen": SECRET},
    )

    clip = env.make(clip_request(voice=wav))

    (upload,) = api.sent(UPLOAD)
    assert upload.method == "POST"
    assert upload.headers["X-Api-Key"] == KEY
    assert upload.headers["Content-Type"] == "audio/wav"
    assert frames_of(upload.content).startswith(frames_of(wav.read_bytes()))  # padded, below

    (generate,) = api.sent(GENERATE)
    assert generate.headers["X-Api-Key"] == KEY
    sent = body(generate)
    assert sent["video_inputs"] == [
        {
            "character": {"type": "avatar", "avatar_id": AVATAR, "avatar_style": "normal"},
            "voice": {"type": "audio", "audio_asset_id": "asset-7f3e"},
            "background": {"type": "color", "value": "#f5efe6"},
        }
    ]
    assert sent["dimension"] == {"width": 720, "height": 1280}
    token = callback_token(SECRET, "heygen", "job-42")
    assert sent["callback_url"] == (
        f"https://reelforge.example.com/v1/providers/heygen/callback?job_id=job-42&token={token}"
    )
    assert len(sent["callback_id"]) == 64
    assert sent["title"] == "reelforge scene 2 9x16"

    polls = api.sent(STATUS)
    assert len(polls) == 4
    assert all(p.url.params["video_id"] == VIDEO_ID for p in polls)
    assert all(p.headers["X-Api-Key"] == KEY for p in polls)
    assert env.sleeps == [2.0, 3.0, 4.5]

    (download,) = [r for r in api.requests if r.url.host == "files2.heygen.ai"]
    assert "X-Api-Key" not in download.headers  # the key stays with HeyGen's API
    assert isinstance(clip, VideoClip)
    assert clip.path.read_bytes() == mp4_bytes

    (usage,) = env.meter.usages
    assert (usage.provider, usage.unit, usage.units, usage.task_id) == (
        "heygen",
        "second",
        7.5,
        VIDEO_ID,
    )
    assert usage.credits > 0


def test_without_a_voice_file_heygen_speaks_the_line_and_polls_only(
    tmp_path: Path, mp4_bytes: bytes
) -> None:
    api = HeyGen(mp4_bytes, COMPLETED)
    env = Env(tmp_path, api)
    env.make(clip_request(Format.V16X9, spoken="  Hot espresso, every time. "))

    assert api.sent(UPLOAD) == []
    sent = body(api.sent(GENERATE)[0])
    assert sent["video_inputs"][0]["voice"] == {
        "type": "text",
        "input_text": "Hot espresso, every time.",
        "voice_id": VOICE,
        "speed": 1.0,
    }
    assert sent["dimension"] == {"width": 1280, "height": 720}
    assert "callback_url" not in sent


@pytest.mark.parametrize(
    ("fmt", "size"),
    [
        (Format.V9X16, (720, 1280)),
        (Format.V4X5, (720, 1280)),
        (Format.V1X1, (720, 720)),
        (Format.V16X9, (1280, 720)),
    ],
)
def test_dimension_per_format(fmt: Format, size: tuple[int, int]) -> None:
    assert dimension_for(fmt) == size
    assert dimension_for(Format.V9X16, short_side=1080) == (1080, 1920)


def test_4x5_after_9x16_pays_once(tmp_path: Path, mp4_bytes: bytes) -> None:
    api = HeyGen(mp4_bytes, COMPLETED)
    env = Env(tmp_path, api)
    a = env.make(clip_request(Format.V9X16))
    sent = len(api.requests)
    b = env.make(clip_request(Format.V4X5))
    assert len(api.requests) == sent
    assert a.path == b.path
    assert [u.cached for u in env.meter.usages] == [False, True]


def test_cache_hit_makes_zero_calls_but_a_regeneration_asks_again(
    tmp_path: Path, mp4_bytes: bytes, wav: Path
) -> None:
    api = HeyGen(mp4_bytes, COMPLETED)
    env = Env(tmp_path, api)
    env.make(clip_request(voice=wav))
    sent = len(api.requests)

    env.make(clip_request(voice=wav), presenter=env.presenter())
    assert len(api.requests) == sent

    env.make(clip_request(voice=wav), attempt=1)
    assert len(api.sent(GENERATE)) == 2


def test_a_callback_finishes_the_task_without_polling(tmp_path: Path, mp4_bytes: bytes) -> None:
    api = HeyGen(mp4_bytes, status_body("processing"))
    inbox = Inbox(
        {
            "event_type": "avatar_video_gif.success",
            "event_data": {"video_id": VIDEO_ID, "url": "x"},
        },
        {
            "event_type": "avatar_video.success",
            "event_data": {"video_id": VIDEO_ID, "url": RESULT, "callback_id": "k"},
        },
    )
    env = Env(tmp_path, api, inbox=inbox, callback_base="https://reelforge.example.com")

    clip = env.make()

    assert api.sent(STATUS) == []
    assert inbox.asked == [("heygen", VIDEO_ID)]
    assert clip.path.read_bytes() == mp4_bytes
    (usage,) = env.meter.usages
    assert usage.units == pytest.approx(1.0, abs=0.1)  # probed: callbacks carry no duration


def test_a_crash_after_submit_resumes_the_same_video(
    tmp_path: Path, mp4_bytes: bytes, wav: Path
) -> None:
    down = httpx.Response(502, text="Bad Gateway")
    api = HeyGen(mp4_bytes, down)
    env = Env(tmp_path, api)
    env.breaker = CircuitBreaker("heygen", failure_threshold=99)
    with pytest.raises(ProviderUnavailable):
        env.make(clip_request(voice=wav))
    assert len(api.sent(GENERATE)) == 1
    assert len(api.sent(UPLOAD)) == 1

    api.statuses = [COMPLETED]
    clip = env.make(clip_request(voice=wav), presenter=env.presenter())  # the next attempt

    assert len(api.sent(GENERATE)) == 1  # no new paid generation
    assert len(api.sent(UPLOAD)) == 1
    assert api.sent(STATUS)[-1].url.params["video_id"] == VIDEO_ID
    assert clip.path.read_bytes() == mp4_bytes


def test_a_render_that_outlasts_the_deadline_times_out_and_keeps_its_task(
    tmp_path: Path, mp4_bytes: bytes
) -> None:
    api = HeyGen(mp4_bytes, status_body("processing"))
    env = Env(tmp_path, api, task_deadline=0.0)
    with pytest.raises(TaskTimeout):
        env.make()
    (task,) = json.loads(env.journal.path.read_text()).values()
    assert task["task_id"] == VIDEO_ID  # a later attempt waits for this video, not a new one


def test_the_voice_line_is_padded_with_silence_so_the_video_covers_the_scene(
    tmp_path: Path, mp4_bytes: bytes, wav: Path
) -> None:
    api = HeyGen(mp4_bytes, COMPLETED)
    env = Env(tmp_path, api)
    request = clip_request(voice=wav).model_copy(update={"duration": 4.4})  # scene + transition
    env.make(request)

    (upload,) = api.sent(UPLOAD)
    line = frames_of(wav.read_bytes())  # 0.1 s of speech
    sent = frames_of(upload.content)
    assert seconds_of(upload.content) == pytest.approx(4.4)  # HeyGen's video lasts this long
    with wave.open(io.BytesIO(upload.content), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16000)
    assert sent[: len(line)] == line and set(sent[len(line) :]) == {0}  # then silence

    # the padded bytes are the question: the same again is cached, another length is not
    env.make(request, presenter=env.presenter())
    assert len(api.sent(GENERATE)) == 1
    env.make(request.model_copy(update={"duration": 5.0}))
    assert len(api.sent(GENERATE)) == 2
    assert seconds_of(api.sent(UPLOAD)[-1].content) == pytest.approx(5.0)


def test_a_voice_line_as_long_as_the_scene_is_sent_as_it_is(
    tmp_path: Path, mp4_bytes: bytes, wav: Path
) -> None:
    api = HeyGen(mp4_bytes, COMPLETED)
    env = Env(tmp_path, api)
    env.make(clip_request(voice=wav).model_copy(update={"duration": 0.05}))
    (upload,) = api.sent(UPLOAD)
    assert upload.content == wav.read_bytes()


def test_a_generate_whose_answer_is_lost_is_not_sent_again_but_the_upload_is(
    tmp_path: Path, mp4_bytes: bytes, wav: Path
) -> None:
    api = HeyGen(mp4_bytes, COMPLETED)
    late = {UPLOAD: 1, GENERATE: 1}

    def flaky(request: httpx.Request) -> httpx.Response:
        url = str(request.url).split("?")[0]
        if late.get(url):
            late[url] -= 1
            api.requests.append(request)
            raise httpx.ReadTimeout("slow answer", request=request)
        return api(request)

    env = Env(tmp_path, api)
    presenter = HeyGenPresenter(
        KEY, avatar_id=AVATAR, client=httpx.AsyncClient(transport=httpx.MockTransport(flaky)),
        breaker=env.breaker, sleep=env._sleep, policy=RetryPolicy(jitter=0.0),
    )  # fmt: skip
    with pytest.raises(ProviderUnavailable, match="may have accepted it, so it was not retried"):
        env.make(clip_request(voice=wav), presenter=presenter)
    assert len(api.sent(UPLOAD)) == 2  # an upload is safe to repeat
    assert len(api.sent(GENERATE)) == 1  # a second generate would be a second paid video
    assert env.meter.usages == ()


@pytest.mark.parametrize(
    ("render_deadline", "task_deadline", "waited"),
    [(0.0, 900.0, 900.0), (2400.0, 900.0, 2400.0), (60.0, 3600.0, 3600.0)],
)
def test_a_render_is_waited_for_the_longer_of_its_own_and_the_runtimes_deadline(
    tmp_path: Path,
    mp4_bytes: bytes,
    monkeypatch: pytest.MonkeyPatch,
    render_deadline: float,
    task_deadline: float,
    waited: float,
) -> None:
    deadlines: list[float] = []

    async def run_task(*args: Any, deadline: float, **kwargs: Any) -> None:
        deadlines.append(deadline)
        raise TaskTimeout("heygen", "stopped here")

    monkeypatch.setattr("pipeline.providers.heygen.run_task", run_task)
    env = Env(tmp_path, HeyGen(mp4_bytes), task_deadline=task_deadline)
    with pytest.raises(TaskTimeout):
        env.make(presenter=env.presenter(render_deadline=render_deadline))
    assert deadlines == [waited]
    assert HeyGenPresenter(KEY).render_deadline == RENDER_DEADLINE == 40 * 60.0


# -- refusals and failures ---------------------------------------------------------------------


def test_invalid_key_surfaces_heygens_message(tmp_path: Path, mp4_bytes: bytes) -> None:
    api = HeyGen(
        mp4_bytes,
        generate=httpx.Response(
            401, json={"error": {"code": 40009, "message": "Invalid credentials provided"}}
        ),
    )
    env = Env(tmp_path, api)
    with pytest.raises(ProviderRejected) as caught:
        env.make()
    assert caught.value.status == 401
    assert caught.value.provider_message == "Invalid credentials provided"
    assert "Invalid credentials provided" in str(caught.value)
    assert "HEYGEN_API_KEY" in str(caught.value)
    assert env.meter.usages == ()


def test_blocked_words_are_refused_with_heygens_reason(tmp_path: Path, mp4_bytes: bytes) -> None:
    api = HeyGen(
        mp4_bytes,
        generate=httpx.Response(
            400, json={"error": {"code": 400105, "message": "Blocked words detected"}, "data": None}
        ),
    )
    env = Env(tmp_path, api)
    with pytest.raises(ProviderRejected, match="Blocked words detected") as caught:
        env.make()
    assert caught.value.status == 400
    assert len(api.sent(GENERATE)) == 1  # a 4xx is not retried


def test_an_error_in_a_200_answer_is_a_rejection(tmp_path: Path, mp4_bytes: bytes) -> None:
    api = HeyGen(
        mp4_bytes,
        generate=httpx.Response(
            200, json={"error": {"code": 400175, "message": "Invalid parameter"}, "data": None}
        ),
    )
    env = Env(tmp_path, api)
    with pytest.raises(ProviderRejected, match="Invalid parameter"):
        env.make()


def test_moderation_during_rendering_is_a_refusal_and_forgets_the_task(
    tmp_path: Path, mp4_bytes: bytes
) -> None:
    failed = status_body(
        "failed",
        error={
            "code": 400105,
            "message": "Blocked words detected",
            "detail": "The script contains content that violates our moderation policy",
        },
    )
    api = HeyGen(mp4_bytes, status_body("processing"), failed)
    env = Env(tmp_path, api)
    with pytest.raises(ProviderRejected) as caught:
        env.make()
    assert "Blocked words detected" in str(caught.value)
    assert "moderation policy" in (caught.value.provider_message or "")
    assert json.loads(env.journal.path.read_text()) == {}  # the next attempt submits anew
    assert env.meter.usages == ()


def test_a_render_failure_is_a_task_failure_with_heygens_words(
    tmp_path: Path, mp4_bytes: bytes
) -> None:
    failed = status_body(
        "failed",
        error={
            "code": 40119,
            "message": "Video is too long",
            "detail": "Video is too long (> 3600.0s). Please upgrade your plan to generate longer videos",
        },
    )
    api = HeyGen(mp4_bytes, failed)
    env = Env(tmp_path, api)
    with pytest.raises(TaskFailed, match="Please upgrade your plan"):
        env.make()


def test_a_fail_callback_ends_the_task(tmp_path: Path, mp4_bytes: bytes) -> None:
    api = HeyGen(mp4_bytes, status_body("processing"))
    inbox = Inbox(
        {
            "event_type": "avatar_video.fail",
            "event_data": {
                "video_id": VIDEO_ID,
                "msg": "Avatar rendering error",
                "callback_id": "k",
            },
        }
    )
    env = Env(tmp_path, api, inbox=inbox)
    with pytest.raises(TaskFailed, match="Avatar rendering error"):
        env.make()
    assert api.sent(STATUS) == []


def test_from_callback_reads_only_avatar_video_events() -> None:
    presenter = HeyGenPresenter(KEY, breaker=CircuitBreaker("heygen"))
    ok = presenter.from_callback(
        {"event_type": "avatar_video.success", "event_data": {"video_id": "v1", "url": RESULT}}
    )
    assert ok is not None and (ok.task_id, ok.state, ok.result_url) == (
        "v1",
        TaskState.SUCCEEDED,
        RESULT,
    )
    refused = presenter.from_callback(
        {
            "event_type": "avatar_video.fail",
            "event_data": {"video_id": "v1", "msg": "Content moderation failed"},
        }
    )
    assert refused is not None and refused.refused and refused.error == "Content moderation failed"
    assert (
        presenter.from_callback(
            {"event_type": "video_translate.success", "event_data": {"video_translate_id": "t"}}
        )
        is None
    )
    assert presenter.from_callback({"event_type": "avatar_video.success"}) is None


def test_malformed_json_is_a_provider_error(tmp_path: Path, mp4_bytes: bytes) -> None:
    api = HeyGen(mp4_bytes, generate=httpx.Response(200, text="<html>upstream error</html>"))
    env = Env(tmp_path, api)
    with pytest.raises(ProviderError, match="malformed JSON"):
        env.make()


def test_completed_without_a_url_is_a_provider_error(tmp_path: Path, mp4_bytes: bytes) -> None:
    api = HeyGen(mp4_bytes, status_body("completed"))
    env = Env(tmp_path, api)
    with pytest.raises(ProviderError, match="without a video_url"):
        env.make()


def test_provider_down_opens_the_breaker_and_later_calls_fail_fast(
    tmp_path: Path, mp4_bytes: bytes
) -> None:
    api = HeyGen(
        mp4_bytes, generate=httpx.Response(503, json={"error": {"code": 500, "message": "down"}})
    )
    env = Env(tmp_path, api)
    with pytest.raises(ProviderUnavailable, match="not retried"):
        env.make()
    assert env.breaker.state is BreakerState.OPEN
    assert env.sleeps == []  # a 5xx to video/generate is not retried: HeyGen may be rendering it
    assert len(api.sent(GENERATE)) == 1
    sent = len(api.requests)
    with pytest.raises(ProviderUnavailable, match="circuit open"):
        env.make(clip_request(spoken="Another line entirely."))
    assert len(api.requests) == sent


# -- configuration -----------------------------------------------------------------------------


def test_missing_key_is_bad_input_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEYGEN_API_KEY", raising=False)
    with pytest.raises(BadInput) as caught:
        HeyGenPresenter.from_settings(ProviderSettings.from_env(os.environ))
    assert caught.value.where == "HEYGEN_API_KEY"


def test_settings_give_the_key_avatar_and_voice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEYGEN_API_KEY", KEY)
    monkeypatch.setenv("HEYGEN_AVATAR_ID", AVATAR)
    monkeypatch.setenv("HEYGEN_VOICE_ID", VOICE)
    presenter = HeyGenPresenter.from_settings(ProviderSettings.from_env(os.environ))
    assert (presenter.name, presenter.model) == ("heygen", "v2")
    assert (presenter.avatar_id, presenter.voice_id) == (AVATAR, VOICE)


def test_missing_avatar_or_voice_fails_before_any_call(tmp_path: Path, mp4_bytes: bytes) -> None:
    api = HeyGen(mp4_bytes)
    env = Env(tmp_path, api)
    with pytest.raises(BadInput) as no_avatar:
        env.make(presenter=env.presenter(avatar_id=None))
    assert no_avatar.value.where == "HEYGEN_AVATAR_ID"
    with pytest.raises(BadInput) as no_voice:
        env.make(presenter=env.presenter(voice_id=None))
    assert no_voice.value.where == "HEYGEN_VOICE_ID"
    assert api.requests == []


def test_a_silent_scene_has_the_presenter_listen_for_its_length(
    tmp_path: Path, mp4_bytes: bytes
) -> None:
    api = HeyGen(mp4_bytes, COMPLETED)
    env = Env(tmp_path, api)
    env.make(clip_request(spoken="  "), presenter=env.presenter(voice_id=None))
    voice = body(api.sent(GENERATE)[0])["video_inputs"][0]["voice"]
    assert voice == {"type": "silence", "duration": 3.0}


def test_listings_parse_avatars_and_voices(tmp_path: Path, mp4_bytes: bytes) -> None:
    api = HeyGen(mp4_bytes)
    presenter = Env(tmp_path, api).presenter()
    avatars = asyncio.run(presenter.list_avatars())
    voices = asyncio.run(presenter.list_voices())
    assert [(a.avatar_id, a.name, a.gender) for a in avatars] == [
        (AVATAR, "Abigail (Upper Body)", "female")
    ]
    assert avatars[0].preview_image_url.endswith("preview_target.webp")
    assert [(v.voice_id, v.name, v.language) for v in voices] == [(VOICE, "Sara", "English")]
    assert all(r.headers["X-Api-Key"] == KEY for r in api.requests)
