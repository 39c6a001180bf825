"""KlingClips against httpx.MockTransport, in the shapes of Kling's API reference."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import io
import json
import os
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from PIL import Image

from pipeline.errors import BadInput
from pipeline.formats import Format
from pipeline.providers.breaker import BreakerState, CircuitBreaker
from pipeline.providers.errors import (
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from pipeline.providers.http import RetryPolicy
from pipeline.providers.kling import KlingClips
from pipeline.providers.kling_protocol import KLING_CODES, kling_token
from pipeline.providers.tasks import TaskJournal, TaskState, TaskTimeout
from pipeline.providers.video_inputs import provider_aspect, provider_duration
from pipeline.settings import ProviderSettings
from tests.providers.video_support import (
    CLIP,
    Inbox,
    Recorder,
    Sleeps,
    context,
    runtime,
    scene,
)

AK = "AK-test-0123456789"
SK = "SK-test-secret-0123456789abcdef0123456789"  # HS256 wants 32+ bytes
NOW = 1_750_000_000.0
BASE = "https://api-singapore.klingai.com"
VIDEO_URL = "https://cdn.klingai.test/kcdn/video/abc.mp4"
CALLBACK_BASE = "https://reelforge.example.com"


def envelope(
    data: Any, *, code: int = 0, message: str = "SUCCEED", status: int = 200
) -> httpx.Response:
    return httpx.Response(
        status, json={"code": code, "message": message, "request_id": "req-1", "data": data}
    )


def task(status: str, task_id: str = "T1", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "task_id": task_id, "task_status": status, "task_info": {"external_task_id": "x"},
        "created_at": 1722769557708, "updated_at": 1722769557708, **extra,
    }  # fmt: skip
    if status == "succeed":
        data["task_result"] = {
            "videos": [{"id": "v1", "url": VIDEO_URL, "watermark_url": "", "duration": "5.1"}]
        }
    return data


class FakeKling:
    """Kling's create and query endpoints and its CDN: a task goes through ``states``."""

    def __init__(self, states: tuple[str, ...] = ("processing", "succeed"), **failure: Any) -> None:
        self.states = list(states)
        self.failure = failure
        self.download: httpx.Response | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "cdn.klingai.test":
            return self.download or httpx.Response(
                200, content=CLIP, headers={"Content-Type": "video/mp4"}
            )
        if request.method == "POST":
            return envelope(task("submitted"))
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        return envelope(task(state, **(self.failure if state == "failed" else {})))


def adapter(
    recorder: Recorder, *, breaker: CircuitBreaker | None = None, sleeps: Sleeps | None = None
) -> KlingClips:
    return KlingClips(
        access_key=AK,
        secret_key=SK,
        client=recorder.client(),
        breaker=breaker or CircuitBreaker("kling"),
        policy=RetryPolicy(max_attempts=3),
        sleep=sleeps or Sleeps(),
        now=lambda: NOW,
    )


def claims_of(request: httpx.Request) -> dict[str, Any]:
    scheme, token = request.headers["Authorization"].split(" ", 1)
    assert scheme == "Bearer"
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    decoded: dict[str, Any] = jwt.decode(
        token, SK, algorithms=["HS256"], options={"verify_exp": False, "verify_nbf": False}
    )
    return decoded


# -- auth and helpers ------------------------------------------------------------------------


def test_the_token_is_issued_by_the_access_key_and_signed_with_the_secret() -> None:
    token = kling_token(AK, SK, now=NOW)
    claims = jwt.decode(
        token, SK, algorithms=["HS256"], options={"verify_exp": False, "verify_nbf": False}
    )
    assert claims == {"iss": AK, "exp": int(NOW) + 1800, "nbf": int(NOW) - 5}
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-of-sufficient-length-000", algorithms=["HS256"])


@pytest.mark.parametrize(
    ("fmt", "aspect"),
    [(Format.V9X16, "9:16"), (Format.V16X9, "16:9"), (Format.V1X1, "1:1"), (Format.V4X5, "9:16")],
)
def test_each_format_maps_to_an_aspect_kling_renders(fmt: Format, aspect: str) -> None:
    assert provider_aspect(fmt) == aspect


@pytest.mark.parametrize(
    ("needed", "chosen"), [(1.0, 5), (5.0, 5), (5.2, 10), (10.0, 10), (14.0, 10)]
)
def test_duration_is_the_shortest_that_covers_the_scene(needed: float, chosen: int) -> None:
    assert provider_duration(needed) == chosen


def test_missing_keys_are_named_when_the_adapter_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KLING_ACCESS_KEY", raising=False)
    monkeypatch.delenv("KLING_SECRET_KEY", raising=False)
    with pytest.raises(BadInput, match="KLING_ACCESS_KEY: is not set"):
        KlingClips.from_settings(ProviderSettings.from_env(os.environ))
    monkeypatch.setenv("KLING_ACCESS_KEY", AK)
    with pytest.raises(BadInput, match="KLING_SECRET_KEY: is not set"):
        KlingClips.from_settings(ProviderSettings.from_env(os.environ))
    monkeypatch.setenv("KLING_SECRET_KEY", SK)
    assert (
        KlingClips.from_settings(ProviderSettings.from_env(os.environ), model="kling-v2-master").model
        == "kling-v2-master"
    )


# -- image-to-video, text-to-video, the cache ------------------------------------------------


def test_a_photo_scene_is_animated_from_the_cropped_photo(tmp_path: Path) -> None:
    fake = Recorder(FakeKling())
    rt = runtime(tmp_path, callback_base=CALLBACK_BASE)
    clip = asyncio.run(
        adapter(fake).make(scene(), context(tmp_path), workdir=tmp_path / "w", runtime=rt)
    )

    (post,) = fake.sent("POST")
    assert str(post.url) == f"{BASE}/v1/videos/image2video"
    assert claims_of(post) == {"iss": AK, "exp": int(NOW) + 1800, "nbf": int(NOW) - 5}
    body = json.loads(post.content)
    assert body["model_name"] == "kling-v2-1"
    assert body["duration"] == "5" and body["mode"] == "std"
    assert "aspect_ratio" not in body and "cfg_scale" not in body
    assert body["prompt"].startswith("Slow dolly-in")
    assert body["callback_url"] == rt.callback_url("kling")
    assert body["callback_url"].startswith(f"{CALLBACK_BASE}/v1/providers/kling/callback?job_id=")
    assert body["external_task_id"].startswith("reelforge-")
    with Image.open(io.BytesIO(base64.b64decode(body["image"], validate=True))) as reference:
        assert reference.format == "JPEG" and reference.size == (720, 1280)  # 9:16, raw base64

    polls = fake.sent("GET", "/v1/videos/")
    assert [str(r.url) for r in polls] == [f"{BASE}/v1/videos/image2video/T1"] * 2
    assert all(claims_of(r)["iss"] == AK for r in polls)
    assert clip.path.read_bytes() == CLIP and clip.trim_start == 0
    (usage,) = rt.meter.usages
    assert (usage.provider, usage.model, usage.units, usage.task_id) == (
        "kling",
        "kling-v2-1",
        5.1,
        "T1",
    )
    assert usage.what == "scene 0 9x16" and not usage.cached


def test_a_scene_without_a_photo_is_written_from_the_prompt(tmp_path: Path) -> None:
    fake = Recorder(FakeKling(("succeed",)))
    rt = runtime(tmp_path)
    request = scene(Format.V16X9, photo=None, duration=7)
    asyncio.run(
        adapter(fake).make(
            request, context(tmp_path, with_photo=False), workdir=tmp_path, runtime=rt
        )
    )
    (post,) = fake.sent("POST")
    assert post.url.path == "/v1/videos/text2video"
    body = json.loads(post.content)
    assert body["model_name"] == "kling-v2-1-master"
    assert body["aspect_ratio"] == "16:9" and body["duration"] == "10"
    assert "image" not in body and "callback_url" not in body  # no public URL: poll only
    assert [r.url.path for r in fake.sent("GET", "/v1/")] == ["/v1/videos/text2video/T1"]


def test_formats_sharing_an_aspect_reuse_one_generation(tmp_path: Path) -> None:
    fake = Recorder(FakeKling(("succeed",)))
    rt = runtime(tmp_path)
    kling = adapter(fake)
    first = asyncio.run(
        kling.make(scene(Format.V9X16), context(tmp_path), workdir=tmp_path, runtime=rt)
    )
    calls = len(fake.requests)
    again = asyncio.run(
        kling.make(scene(Format.V4X5), context(tmp_path), workdir=tmp_path, runtime=rt)
    )
    assert len(fake.requests) == calls  # zero provider calls
    assert again.path == first.path
    assert [u.cached for u in rt.meter.usages] == [False, True]
    assert rt.meter.calls == 1


def test_the_seed_is_not_part_of_the_question_kling_is_never_sent_one(tmp_path: Path) -> None:
    fake = Recorder(FakeKling(("succeed",)))
    rt = runtime(tmp_path)
    kling = adapter(fake)
    first = asyncio.run(kling.make(scene(), context(tmp_path), workdir=tmp_path, runtime=rt))
    (post,) = fake.sent("POST")
    assert "seed" not in json.loads(post.content)
    calls = len(fake.requests)
    reseeded = scene().model_copy(update={"seed": 123456789})  # any edit of the brief
    again = asyncio.run(kling.make(reseeded, context(tmp_path), workdir=tmp_path, runtime=rt))
    assert len(fake.requests) == calls  # not paid again
    assert again.path == first.path


def test_a_regeneration_is_a_new_question(tmp_path: Path) -> None:
    fake = Recorder(FakeKling(("succeed",)))
    rt = runtime(tmp_path)
    kling = adapter(fake)
    asyncio.run(kling.make(scene(), context(tmp_path), workdir=tmp_path, runtime=rt))
    asyncio.run(kling.make(scene(), context(tmp_path), workdir=tmp_path, runtime=rt, attempt=1))
    assert len(fake.sent("POST")) == 2


# -- callbacks and polling -------------------------------------------------------------------


def test_a_callback_in_the_inbox_finishes_the_task_without_polling(tmp_path: Path) -> None:
    fake = Recorder(FakeKling(("processing",)))
    inbox = Inbox()
    inbox.by_task["T1"] = [task("processing"), task("succeed")]  # the callback body is ``data``
    rt = runtime(tmp_path, callback_base=CALLBACK_BASE, inbox=inbox)
    clip = asyncio.run(adapter(fake).make(scene(), context(tmp_path), workdir=tmp_path, runtime=rt))
    assert fake.sent("GET", "/v1/videos/") == []
    assert clip.path.read_bytes() == CLIP


def test_polling_finishes_the_task_when_no_callback_arrives(tmp_path: Path) -> None:
    fake = Recorder(FakeKling(("submitted", "processing", "processing", "succeed")))
    sleeps = Sleeps()
    rt = runtime(tmp_path, callback_base=CALLBACK_BASE, inbox=Inbox())
    asyncio.run(
        adapter(fake, sleeps=sleeps).make(scene(), context(tmp_path), workdir=tmp_path, runtime=rt)
    )
    assert len(fake.sent("GET", "/v1/videos/")) == 4
    assert sleeps.delays == [2.0, 3.0, 4.5]  # the runtime's poll interval, backing off


def test_callback_bodies_parse_like_status_answers() -> None:
    kling = KlingClips(access_key=AK, secret_key=SK)
    done = kling.from_callback(task("succeed", task_id="T9"))
    assert done is not None and done.state is TaskState.SUCCEEDED
    assert done.result_url == VIDEO_URL and done.duration == 5.1
    wrapped = kling.from_callback({"code": 0, "data": task("processing", task_id="T9")})
    assert wrapped is not None and wrapped.state is TaskState.RUNNING
    assert kling.from_callback({"hello": "world"}) is None


def test_a_crash_after_submit_resumes_the_same_task(tmp_path: Path) -> None:
    journal_path = tmp_path / "work" / "tasks.json"
    states = FakeKling(("processing",))
    fake = Recorder(states)

    class Killed(Exception):
        pass

    async def killed(seconds: float) -> None:  # the worker dies while waiting
        raise Killed

    rt = runtime(tmp_path)
    with pytest.raises(Killed):
        asyncio.run(
            KlingClips(access_key=AK, secret_key=SK, client=fake.client(), breaker=CircuitBreaker("kling"),
                       sleep=killed, now=lambda: NOW).make(scene(), context(tmp_path), workdir=tmp_path, runtime=rt)
        )  # fmt: skip
    assert len(fake.sent("POST")) == 1
    assert TaskJournal(journal_path).get(next(iter(json.loads(journal_path.read_text()))))

    # the download fails on the next attempt: still no second submit
    states.states = ["succeed"]
    states.download = httpx.Response(500, text="cdn down")
    with pytest.raises(ProviderError, match="downloading the result failed with HTTP 500"):
        asyncio.run(
            adapter(fake).make(
                scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path)
            )
        )
    states.download = None
    resumed = runtime(tmp_path)  # a new attempt of the job: same work folder, same journal
    clip = asyncio.run(
        adapter(fake).make(scene(), context(tmp_path), workdir=tmp_path, runtime=resumed)
    )
    assert len(fake.sent("POST")) == 1
    assert clip.path.read_bytes() == CLIP
    assert [u.task_id for u in resumed.meter.usages] == ["T1"]


def test_a_task_that_never_finishes_times_out(tmp_path: Path) -> None:
    fake = Recorder(FakeKling(("processing",)))
    rt = dataclasses.replace(runtime(tmp_path), task_deadline=0.0)
    with pytest.raises(TaskTimeout, match="task T1 did not finish"):
        asyncio.run(adapter(fake).make(scene(), context(tmp_path), workdir=tmp_path, runtime=rt))


# -- errors in Kling's words -----------------------------------------------------------------


def test_a_bad_key_fails_at_once_with_klings_reason(tmp_path: Path) -> None:
    fake = Recorder(
        lambda r: envelope(None, code=1002, message="Authorization is invalid", status=401)
    )
    with pytest.raises(ProviderRejected) as caught:
        asyncio.run(
            adapter(fake).make(
                scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path)
            )
        )
    assert caught.value.status == 401
    assert caught.value.provider_message == "Authorization is invalid"
    assert "KLING_ACCESS_KEY" in str(caught.value) and "Authorization is invalid" in str(
        caught.value
    )
    assert len(fake.requests) == 1  # a 4xx is not retried


def test_an_unknown_model_surfaces_klings_message(tmp_path: Path) -> None:
    fake = Recorder(
        lambda r: envelope(None, code=1203, message="model kling-v9 is not supported", status=404)
    )
    kling = adapter(fake)
    kling.model = "kling-v9"
    with pytest.raises(ProviderRejected, match="model kling-v9 is not supported"):
        asyncio.run(
            kling.make(scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path))
        )


def test_a_content_refusal_at_submit_carries_klings_reason(tmp_path: Path) -> None:
    reason = "Trigger the content security policy of the platform"
    fake = Recorder(lambda r: envelope(None, code=1301, message=reason, status=400))
    with pytest.raises(ProviderRejected, match=reason):
        asyncio.run(
            adapter(fake).make(
                scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path)
            )
        )


def test_a_task_stopped_by_risk_control_is_a_rejection_in_klings_words(tmp_path: Path) -> None:
    reason = "Failure to pass the risk control system"
    fake = Recorder(FakeKling(("failed",), task_status_msg=reason))
    rt = runtime(tmp_path)
    with pytest.raises(ProviderRejected, match=reason) as caught:
        asyncio.run(adapter(fake).make(scene(), context(tmp_path), workdir=tmp_path, runtime=rt))
    assert caught.value.provider_message == reason
    assert (
        rt.journal is not None and json.loads(rt.journal.path.read_text()) == {}
    )  # resubmit next time
    assert rt.meter.usages == ()  # a failed task costs nothing


def test_a_non_zero_code_in_a_2xx_answer_is_mapped_to_plain_words(tmp_path: Path) -> None:
    fake = Recorder(lambda r: envelope(None, code=1102, message="resource pack exhausted"))
    with pytest.raises(
        ProviderRejected, match="resource pack is used up or expired: resource pack exhausted"
    ):
        asyncio.run(
            adapter(fake).make(
                scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path)
            )
        )
    busy = Recorder(
        lambda r: envelope(None, code=1303, message="parallel task over resource pack limit")
    )
    with pytest.raises(ProviderRateLimited, match="too many tasks at once"):
        asyncio.run(
            adapter(busy).make(
                scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path)
            )
        )


def test_a_429_storm_retries_then_gives_up_rate_limited(tmp_path: Path) -> None:
    fake = Recorder(
        lambda r: httpx.Response(
            429, headers={"Retry-After": "3"},
            json={"code": 1302, "message": "request too fast", "request_id": "r"},
        )
    )  # fmt: skip
    sleeps = Sleeps()
    with pytest.raises(ProviderRateLimited, match="request too fast"):
        asyncio.run(
            adapter(fake, sleeps=sleeps).make(
                scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path)
            )
        )
    assert len(fake.requests) == 3 and sleeps.delays == [3.0, 3.0]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (1100, "Account exception"),
        (1101, "Account in arrears (postpaid scenario)"),
        (1102, "Account balance not enough"),
        (1304, "Trigger the platform's IP whitelisting policy"),
    ],
)
def test_account_errors_sent_as_429_fail_at_once_in_plain_words(
    tmp_path: Path, code: int, message: str
) -> None:
    fake = Recorder(
        lambda r: httpx.Response(429, json={"code": code, "message": message, "request_id": "r"})
    )
    sleeps = Sleeps()
    breaker = CircuitBreaker("kling", failure_threshold=1)
    with pytest.raises(ProviderRejected) as caught:
        asyncio.run(
            adapter(fake, sleeps=sleeps, breaker=breaker).make(
                scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path)
            )
        )
    assert len(fake.requests) == 1 and sleeps.delays == []  # not retried like a rate limit
    assert str(caught.value) == (
        f"stage provider failed: kling: {KLING_CODES[code]}: {message} (code {code}, HTTP 429)"
    )
    assert caught.value.provider_message == message and caught.value.status == 429
    assert breaker.state is BreakerState.CLOSED  # Kling is up; the account is the problem


def test_too_many_tasks_at_once_is_a_rate_limit_and_retried(tmp_path: Path) -> None:
    fake = Recorder(
        lambda r: httpx.Response(
            429, json={"code": 1303, "message": "parallel task over resource pack limit"}
        )
    )
    sleeps = Sleeps()
    with pytest.raises(ProviderRateLimited, match="parallel task over resource pack limit"):
        asyncio.run(
            adapter(fake, sleeps=sleeps).make(
                scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path)
            )
        )
    assert len(fake.requests) == 3 and len(sleeps.delays) == 2


def test_a_submit_whose_answer_is_lost_is_not_sent_again(tmp_path: Path) -> None:
    created: list[str] = []

    def route(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            created.append(f"T{len(created) + 1}")  # Kling created (and bills) the task ...
            if len(created) == 1:
                raise httpx.ReadTimeout("slow answer", request=request)  # ... the answer is late
            return envelope(task("submitted", task_id=created[-1]))
        return FakeKling(("succeed",))(request)

    fake = Recorder(route)
    rt = runtime(tmp_path)
    with pytest.raises(ProviderUnavailable, match="not retried") as caught:
        asyncio.run(adapter(fake).make(scene(), context(tmp_path), workdir=tmp_path, runtime=rt))
    assert created == ["T1"]  # one paid task, not two
    assert "ReadTimeout: slow answer" in str(caught.value)
    assert rt.meter.usages == ()


def test_a_submit_that_never_connected_is_retried_and_polls_retry_timeouts(
    tmp_path: Path,
) -> None:
    failures = {"POST": [httpx.ConnectError("refused")], "GET": [httpx.ReadTimeout("slow")]}

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.host != "cdn.klingai.test" and failures.get(request.method):
            raise failures[request.method].pop()
        return FakeKling(("succeed",))(request)

    fake = Recorder(route)
    clip = asyncio.run(
        adapter(fake).make(scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path))
    )
    assert len(fake.sent("POST")) == 2  # the first never reached Kling
    assert len(fake.sent("GET", "/v1/videos/")) == 2  # a status query is safe to repeat
    assert clip.path.read_bytes() == CLIP


def test_malformed_json_is_a_provider_error(tmp_path: Path) -> None:
    fake = Recorder(lambda r: httpx.Response(200, text="<html>gateway</html>"))
    with pytest.raises(ProviderError, match="malformed JSON"):
        asyncio.run(
            adapter(fake).make(
                scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path)
            )
        )


def test_an_open_breaker_fails_fast_without_a_request(tmp_path: Path) -> None:
    fake = Recorder(FakeKling())
    breaker = CircuitBreaker("kling", failure_threshold=1, reset_after=60)
    breaker.record_failure()
    with pytest.raises(ProviderUnavailable, match="circuit open"):
        asyncio.run(
            adapter(fake, breaker=breaker).make(
                scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path)
            )
        )
    assert fake.requests == []


def test_kling_down_opens_the_breaker(tmp_path: Path) -> None:
    fake = Recorder(lambda r: envelope(None, code=5001, message="maintenance", status=503))
    breaker = CircuitBreaker("kling", failure_threshold=1, reset_after=60)
    kling = adapter(fake, breaker=breaker)
    with pytest.raises(ProviderUnavailable, match="maintenance"):
        asyncio.run(
            kling.make(scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path))
        )
    sent = len(fake.requests)
    assert sent == 1  # a 5xx to a submit is not retried: Kling may have created the task
    with pytest.raises(ProviderUnavailable, match="circuit open"):
        asyncio.run(
            kling.make(scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path))
        )
    assert len(fake.requests) == sent
