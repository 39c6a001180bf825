"""FalClips and FalImages against httpx.MockTransport, in the shapes of fal's queue docs."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from pipeline.errors import BadInput
from pipeline.formats import Format
from pipeline.providers.breaker import CircuitBreaker
from pipeline.providers.errors import (
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from pipeline.providers.fal import FalClips, FluxStills
from pipeline.providers.fal_queue import FalQueue, app_id
from pipeline.providers.flux import FalImages, flux_size
from pipeline.providers.http import RetryPolicy
from pipeline.providers.sync import run_sync
from pipeline.providers.tasks import TaskJournal, TaskState
from pipeline.settings import ProviderSettings
from pipeline.timeline import StillClip
from tests.providers.video_support import (
    CLIP,
    Inbox,
    Recorder,
    Sleeps,
    context,
    png_bytes,
    runtime,
    scene,
)

KEY = "fal-key-id:fal-key-secret"
QUEUE = "https://queue.fal.run"
I2V = "fal-ai/kling-video/v2.1/standard/image-to-video"
T2V = "fal-ai/kling-video/v2.1/master/text-to-video"
VIDEO_URL = "https://v3.fal.media/files/rabbit/clip.mp4"
IMAGE_URL = "https://v3.fal.media/files/panda/image.png"
CALLBACK_BASE = "https://reelforge.example.com"
POLICY = {
    "detail": [
        {
            "loc": ["body", "prompt"],
            "msg": "The content could not be processed because it contained material flagged by a content checker.",
            "type": "content_policy_violation",
            "url": "https://docs.fal.ai/errors/#content_policy_violation",
        }
    ]
}


def video_output() -> dict[str, Any]:
    return {
        "video": {
            "url": VIDEO_URL,
            "content_type": "video/mp4",
            "file_name": "clip.mp4",
            "file_size": len(CLIP),
        }
    }


def image_output(nsfw: bool = False) -> dict[str, Any]:
    return {
        "images": [{"url": IMAGE_URL, "width": 96, "height": 160, "content_type": "image/png"}],
        "timings": {"inference": 0.4}, "seed": 3, "has_nsfw_concepts": [nsfw], "prompt": "x",
    }  # fmt: skip


class FakeFal:
    """fal's queue (submit, status, result) and its media CDN; a request goes through ``states``."""

    def __init__(
        self,
        app: str,
        output: dict[str, Any] | httpx.Response,
        states: tuple[str, ...] = ("IN_PROGRESS", "COMPLETED"),
    ) -> None:
        self.app = app
        self.output = output
        self.states = list(states)
        self.download: httpx.Response | None = None
        self.status_error: str | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if request.url.host == "v3.fal.media":
            if self.download is not None:
                return self.download
            return httpx.Response(200, content=CLIP if url.endswith(".mp4") else png_bytes())
        base = f"{QUEUE}/{self.app}/requests/R1"
        if request.method == "POST":
            return httpx.Response(200, json={
                "request_id": "R1", "response_url": base, "status_url": f"{base}/status",
                "cancel_url": f"{base}/cancel", "queue_position": 0,
            })  # fmt: skip
        if url == f"{base}/status":
            state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
            body: dict[str, Any] = {"status": state, "request_id": "R1", "response_url": base}
            if state == "IN_QUEUE":
                body["queue_position"] = 2
            if state == "COMPLETED":
                body["metrics"] = {"inference_time": 3.4}
                if self.status_error:
                    body["error"] = self.status_error
            return httpx.Response(200, json=body)
        if url == base:
            return (
                self.output
                if isinstance(self.output, httpx.Response)
                else httpx.Response(200, json=self.output)
            )
        return httpx.Response(404, json={"detail": f"no route {url}"})


def clips(
    recorder: Recorder, *, breaker: CircuitBreaker | None = None, sleeps: Sleeps | None = None
) -> FalClips:
    return FalClips(
        KEY, client=recorder.client(), breaker=breaker or CircuitBreaker("fal"),
        policy=RetryPolicy(max_attempts=3), sleep=sleeps or Sleeps(),
    )  # fmt: skip


def images(recorder: Recorder, *, model: str = "fal-ai/flux/schnell") -> FalImages:
    return FalImages(
        KEY, model=model, client=recorder.client(), breaker=CircuitBreaker("fal"), sleep=Sleeps()
    )


# -- ids, sizes, keys ------------------------------------------------------------------------


def test_status_and_result_use_the_app_id_without_the_subpath() -> None:
    assert app_id("fal-ai/flux/dev") == "fal-ai/flux"
    assert app_id(I2V) == "fal-ai/kling-video"
    assert app_id("fal-ai/fast-sdxl") == "fal-ai/fast-sdxl"
    with pytest.raises(BadInput):
        app_id("flux")


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1080, 1920), (1072, 1920)),
        ((1920, 1080), (1920, 1072)),
        ((4000, 4000), (1440, 1440)),
        ((100, 100), (256, 256)),
    ],
)
def test_flux_sizes_are_multiples_of_16_within_two_megapixels(
    size: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert flux_size(*size) == expected


def test_a_missing_fal_key_is_named_when_the_adapter_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FAL_KEY", raising=False)
    with pytest.raises(BadInput, match="FAL_KEY: is not set"):
        FalClips.from_settings(ProviderSettings.from_env(os.environ))
    with pytest.raises(BadInput, match="FAL_KEY: is not set"):
        FalImages.from_settings(ProviderSettings.from_env(os.environ))
    monkeypatch.setenv("FAL_KEY", KEY)
    assert (
        FalImages.from_settings(
            ProviderSettings.from_env(os.environ), model="fal-ai/flux/dev"
        ).steps
        == 28
    )


# -- video models on the queue ---------------------------------------------------------------


def test_a_photo_scene_is_queued_with_the_photo_and_the_webhook(tmp_path: Path) -> None:
    fake = Recorder(
        FakeFal("fal-ai/kling-video", video_output(), ("IN_QUEUE", "IN_PROGRESS", "COMPLETED"))
    )
    rt = runtime(tmp_path, callback_base=CALLBACK_BASE)
    clip = asyncio.run(
        clips(fake).make(scene(), context(tmp_path), workdir=tmp_path / "w", runtime=rt)
    )

    (post,) = fake.sent("POST")
    assert post.url.path == f"/{I2V}"
    assert post.url.params["fal_webhook"] == rt.callback_url(
        "fal"
    )  # sent URL-encoded, read back whole
    assert post.headers["Authorization"] == f"Key {KEY}"
    body = json.loads(post.content)
    assert set(body) == {"prompt", "image_url", "duration", "negative_prompt", "cfg_scale"}
    assert body["duration"] == "5" and body["cfg_scale"] == 0.5
    prefix, data = body["image_url"].split(",", 1)
    assert prefix == "data:image/jpeg;base64"
    with Image.open(io.BytesIO(base64.b64decode(data))) as reference:
        assert reference.size == (720, 1280)

    polls = [str(r.url) for r in fake.sent("GET", "/requests/")]
    base = f"{QUEUE}/fal-ai/kling-video/requests/R1"
    assert polls == [f"{base}/status"] * 3 + [base]
    assert all(r.headers["Authorization"] == f"Key {KEY}" for r in fake.sent("GET", "/requests/"))
    assert "Authorization" not in fake.sent("GET", "/files/")[0].headers  # the CDN gets no key
    assert clip.path.read_bytes() == CLIP
    (usage,) = rt.meter.usages
    assert (usage.provider, usage.model, usage.units, usage.task_id) == ("fal", I2V, 5.0, "R1")


def test_a_scene_without_a_photo_uses_the_text_model(tmp_path: Path) -> None:
    fake = Recorder(FakeFal("fal-ai/kling-video", video_output(), ("COMPLETED",)))
    request = scene(Format.V1X1, photo=None, duration=9)
    asyncio.run(
        clips(fake).make(
            request,
            context(tmp_path, with_photo=False),
            workdir=tmp_path,
            runtime=runtime(tmp_path),
        )
    )
    (post,) = fake.sent("POST")
    assert post.url.path == f"/{T2V}" and "fal_webhook" not in post.url.params  # poll only
    body = json.loads(post.content)
    assert body["aspect_ratio"] == "1:1" and body["duration"] == "10" and "image_url" not in body


def test_formats_sharing_an_aspect_reuse_one_generation(tmp_path: Path) -> None:
    fake = Recorder(FakeFal("fal-ai/kling-video", video_output(), ("COMPLETED",)))
    rt = runtime(tmp_path)
    fal = clips(fake)
    asyncio.run(fal.make(scene(Format.V9X16), context(tmp_path), workdir=tmp_path, runtime=rt))
    calls = len(fake.requests)
    asyncio.run(fal.make(scene(Format.V4X5), context(tmp_path), workdir=tmp_path, runtime=rt))
    assert len(fake.requests) == calls
    assert [u.cached for u in rt.meter.usages] == [False, True]


def test_the_seed_is_not_part_of_the_question_fal_kling_is_never_sent_one(
    tmp_path: Path,
) -> None:
    fake = Recorder(FakeFal("fal-ai/kling-video", video_output(), ("COMPLETED",)))
    rt = runtime(tmp_path)
    fal = clips(fake)
    first = asyncio.run(fal.make(scene(), context(tmp_path), workdir=tmp_path, runtime=rt))
    assert "seed" not in json.loads(fake.sent("POST")[0].content)
    calls = len(fake.requests)
    reseeded = scene().model_copy(update={"seed": 123456789})  # any edit of the brief
    again = asyncio.run(fal.make(reseeded, context(tmp_path), workdir=tmp_path, runtime=rt))
    assert len(fake.requests) == calls  # not paid again
    assert again.path == first.path


def test_flux_is_sent_the_seed_so_another_seed_is_another_image(tmp_path: Path) -> None:
    fake = Recorder(FakeFal("fal-ai/flux", image_output(), ("COMPLETED",)))
    stills = FluxStills(images(fake))
    rt = runtime(tmp_path)
    asyncio.run(stills.make(scene(), context(tmp_path), workdir=tmp_path / "w", runtime=rt))
    reseeded = scene().model_copy(update={"seed": 8})
    asyncio.run(stills.make(reseeded, context(tmp_path), workdir=tmp_path / "w", runtime=rt))
    assert [json.loads(r.content)["seed"] for r in fake.sent("POST")] == [7, 8]


def test_a_submit_whose_answer_is_lost_is_not_queued_again(tmp_path: Path) -> None:
    fal_state = FakeFal("fal-ai/kling-video", video_output(), ("COMPLETED",))
    queued: list[httpx.Request] = []

    def route(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            queued.append(request)  # fal queued (and bills) the request ...
            if len(queued) == 1:
                raise httpx.ReadTimeout("slow answer", request=request)  # ... the answer is late
        return fal_state(request)

    fake = Recorder(route)
    rt = runtime(tmp_path)
    with pytest.raises(ProviderUnavailable, match="not retried"):
        asyncio.run(clips(fake).make(scene(), context(tmp_path), workdir=tmp_path, runtime=rt))
    assert len(queued) == 1
    assert rt.meter.usages == ()


def test_a_submit_that_never_connected_is_retried_and_polls_retry_timeouts(
    tmp_path: Path,
) -> None:
    fal_state = FakeFal("fal-ai/kling-video", video_output(), ("COMPLETED",))
    failures = {"POST": [httpx.ConnectTimeout("connect")], "GET": [httpx.ReadTimeout("slow")]}

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.host == "queue.fal.run" and failures.get(request.method):
            raise failures[request.method].pop()
        return fal_state(request)

    fake = Recorder(route)
    clip = asyncio.run(
        clips(fake).make(scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path))
    )
    assert len(fake.sent("POST")) == 2  # the first never reached fal
    assert len(fake.sent("GET", "/status")) == 2
    assert clip.path.read_bytes() == CLIP


def test_a_webhook_in_the_inbox_finishes_without_polling(tmp_path: Path) -> None:
    fake = Recorder(FakeFal("fal-ai/kling-video", video_output(), ("IN_PROGRESS",)))
    inbox = Inbox()
    inbox.by_task["R1"] = [
        {
            "request_id": "R1",
            "gateway_request_id": "R1",
            "status": "OK",
            "payload": video_output(),
            "error": None,
        }
    ]
    rt = runtime(tmp_path, callback_base=CALLBACK_BASE, inbox=inbox)
    clip = asyncio.run(clips(fake).make(scene(), context(tmp_path), workdir=tmp_path, runtime=rt))
    assert fake.sent("GET", "/requests/") == []
    assert clip.path.read_bytes() == CLIP


def test_polling_finishes_the_request_when_no_webhook_arrives(tmp_path: Path) -> None:
    fake = Recorder(
        FakeFal(
            "fal-ai/kling-video",
            video_output(),
            ("IN_QUEUE", "IN_QUEUE", "IN_PROGRESS", "COMPLETED"),
        )
    )
    sleeps = Sleeps()
    rt = runtime(tmp_path, callback_base=CALLBACK_BASE, inbox=Inbox())
    asyncio.run(
        clips(fake, sleeps=sleeps).make(scene(), context(tmp_path), workdir=tmp_path, runtime=rt)
    )
    assert len(fake.sent("GET", "/status")) == 4
    assert sleeps.delays == [2.0, 3.0, 4.5]


def test_webhook_bodies_parse_in_fals_shape() -> None:
    queue = FalQueue(KEY)
    ok = queue.from_callback(
        {"request_id": "R7", "gateway_request_id": "R7", "status": "OK", "payload": image_output()}
    )
    assert ok is not None and ok.state is TaskState.SUCCEEDED and ok.result_url == IMAGE_URL
    error = queue.from_callback({
        "request_id": "R7", "gateway_request_id": "R7", "status": "ERROR",
        "error": "Invalid status code: 422", "payload": {"detail": [{"loc": ["body", "model_name"], "msg": "field required", "type": "value_error.missing"}]},
    })  # fmt: skip
    assert error is not None and error.state is TaskState.FAILED
    assert error.error == "field required" and error.refused
    unserialisable = queue.from_callback(
        {"request_id": "R7", "status": "OK", "payload": None, "payload_error": "not JSON"}
    )
    assert unserialisable is not None and unserialisable.error == "not JSON"
    assert queue.from_callback({"task_id": "T1", "task_status": "succeed"}) is None


def test_a_content_policy_webhook_fails_the_scene_with_fals_reason(tmp_path: Path) -> None:
    fake = Recorder(FakeFal("fal-ai/kling-video", video_output(), ("IN_PROGRESS",)))
    inbox = Inbox()
    inbox.by_task["R1"] = [
        {
            "request_id": "R1",
            "status": "ERROR",
            "error": "Invalid status code: 422",
            "payload": POLICY,
        }
    ]
    rt = runtime(tmp_path, callback_base=CALLBACK_BASE, inbox=inbox)
    with pytest.raises(ProviderRejected, match="flagged by a content checker"):
        asyncio.run(clips(fake).make(scene(), context(tmp_path), workdir=tmp_path, runtime=rt))


def test_a_crash_after_submit_resumes_the_same_request(tmp_path: Path) -> None:
    fal_state = FakeFal("fal-ai/kling-video", video_output(), ("COMPLETED",))
    fal_state.download = httpx.Response(503, text="try later")
    fake = Recorder(fal_state)
    with pytest.raises(ProviderError, match="downloading the result failed with HTTP 503"):
        asyncio.run(
            clips(fake).make(
                scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path)
            )
        )
    journal = json.loads((tmp_path / "work" / "tasks.json").read_text())
    assert [entry["task_id"] for entry in journal.values()] == ["R1"]

    fal_state.download = None
    resumed = runtime(tmp_path)
    clip = asyncio.run(
        clips(fake).make(scene(), context(tmp_path), workdir=tmp_path, runtime=resumed)
    )
    assert len(fake.sent("POST")) == 1
    assert clip.path.read_bytes() == CLIP
    assert TaskJournal(tmp_path / "work" / "tasks.json").get(next(iter(journal))) is not None


def test_a_crash_while_waiting_resumes_without_a_second_submit(tmp_path: Path) -> None:
    fal_state = FakeFal("fal-ai/kling-video", video_output(), ("IN_PROGRESS",))
    fake = Recorder(fal_state)

    async def cancelled(seconds: float) -> None:
        raise asyncio.CancelledError  # the worker's task is cancelled mid-wait

    fal = FalClips(KEY, client=fake.client(), breaker=CircuitBreaker("fal"), sleep=cancelled)
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(
            fal.make(scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path))
        )
    fal_state.states = ["COMPLETED"]
    asyncio.run(
        clips(fake).make(scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path))
    )
    assert len(fake.sent("POST")) == 1


# -- errors in fal's words -------------------------------------------------------------------


def test_a_bad_key_fails_at_once_naming_fal_key(tmp_path: Path) -> None:
    fake = Recorder(
        lambda r: httpx.Response(401, json={"detail": "Invalid Key Authorization header format"})
    )
    with pytest.raises(ProviderRejected) as caught:
        asyncio.run(
            clips(fake).make(
                scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path)
            )
        )
    assert "FAL_KEY" in str(caught.value) and "Invalid Key Authorization header format" in str(
        caught.value
    )
    assert caught.value.status == 401 and len(fake.requests) == 1


def test_an_unknown_model_is_named(tmp_path: Path) -> None:
    fake = Recorder(lambda r: httpx.Response(404, json={"detail": "Application 'nope' not found"}))
    fal = FalClips(
        KEY,
        model="fal-ai/nope/v1",
        client=fake.client(),
        breaker=CircuitBreaker("fal"),
        sleep=Sleeps(),
    )
    with pytest.raises(
        ProviderRejected, match="fal has no model 'fal-ai/nope/v1': Application 'nope' not found"
    ):
        asyncio.run(
            fal.make(scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path))
        )


def test_a_validation_error_at_submit_carries_fals_message(tmp_path: Path) -> None:
    body = {
        "detail": [
            {
                "loc": ["body", "duration"],
                "msg": "value is not a valid enumeration member",
                "type": "type_error.enum",
            }
        ]
    }
    fake = Recorder(lambda r: httpx.Response(422, json=body))
    with pytest.raises(ProviderRejected, match="value is not a valid enumeration member"):
        asyncio.run(
            clips(fake).make(
                scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path)
            )
        )


def test_a_content_refusal_in_the_result_is_a_rejection_in_fals_words(tmp_path: Path) -> None:
    fake = Recorder(FakeFal("fal-ai/kling-video", httpx.Response(422, json=POLICY), ("COMPLETED",)))
    rt = runtime(tmp_path)
    with pytest.raises(ProviderRejected, match="flagged by a content checker") as caught:
        asyncio.run(clips(fake).make(scene(), context(tmp_path), workdir=tmp_path, runtime=rt))
    assert "flagged by a content checker" in (caught.value.provider_message or "")
    assert rt.journal is not None and json.loads(rt.journal.path.read_text()) == {}
    assert rt.meter.usages == ()


def test_a_request_that_failed_on_fals_side_names_the_reason(tmp_path: Path) -> None:
    fal_state = FakeFal(
        "fal-ai/kling-video", httpx.Response(500, json={"detail": "runner crashed"}), ("COMPLETED",)
    )
    fal_state.status_error = "Request timed out"
    fake = Recorder(fal_state)
    with pytest.raises(ProviderError, match="task R1 failed: Request timed out"):
        asyncio.run(
            clips(fake).make(
                scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path)
            )
        )


def test_a_429_storm_retries_then_gives_up_rate_limited(tmp_path: Path) -> None:
    fake = Recorder(lambda r: httpx.Response(429, json={"detail": "Too many concurrent requests"}))
    sleeps = Sleeps()
    with pytest.raises(ProviderRateLimited, match="Too many concurrent requests"):
        asyncio.run(
            clips(fake, sleeps=sleeps).make(
                scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path)
            )
        )
    assert len(fake.requests) == 3 and len(sleeps.delays) == 2


def test_malformed_json_is_a_provider_error(tmp_path: Path) -> None:
    fake = Recorder(lambda r: httpx.Response(200, text="{not json"))
    with pytest.raises(ProviderError, match="malformed JSON"):
        asyncio.run(
            clips(fake).make(
                scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path)
            )
        )


def test_an_open_breaker_fails_fast_without_a_request(tmp_path: Path) -> None:
    fake = Recorder(FakeFal("fal-ai/kling-video", video_output()))
    breaker = CircuitBreaker("fal", failure_threshold=1, reset_after=60)
    breaker.record_failure()
    with pytest.raises(ProviderUnavailable, match="circuit open"):
        asyncio.run(
            clips(fake, breaker=breaker).make(
                scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path)
            )
        )
    assert fake.requests == []


def test_fal_down_opens_the_breaker(tmp_path: Path) -> None:
    fake = Recorder(lambda r: httpx.Response(502, text="bad gateway"))
    breaker = CircuitBreaker("fal", failure_threshold=1, reset_after=60)
    fal = clips(fake, breaker=breaker)
    with pytest.raises(ProviderUnavailable, match="HTTP 502"):
        asyncio.run(
            fal.make(scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path))
        )
    sent = len(fake.requests)
    assert sent == 1  # a 5xx to a submit is not retried: fal may have queued it
    with pytest.raises(ProviderUnavailable, match="circuit open"):
        asyncio.run(
            fal.make(scene(), context(tmp_path), workdir=tmp_path, runtime=runtime(tmp_path))
        )
    assert len(fake.requests) == sent


# -- FLUX --------------------------------------------------------------------------------------


def test_flux_generates_an_image_of_the_requested_size(tmp_path: Path) -> None:
    fake = Recorder(FakeFal("fal-ai/flux", image_output(), ("COMPLETED",)))
    rt = runtime(tmp_path)
    image = run_sync(
        images(fake).image(
            "a cup on a marble table", size=flux_size(1080, 1920), workdir=tmp_path, runtime=rt,
            seed=3,
        )
    )  # fmt: skip

    (post,) = fake.sent("POST")
    assert str(post.url) == f"{QUEUE}/fal-ai/flux/schnell"
    assert json.loads(post.content) == {
        "prompt": "a cup on a marble table", "image_size": {"width": 1072, "height": 1920},
        "num_images": 1, "enable_safety_checker": True, "output_format": "png",
        "num_inference_steps": 4, "seed": 3,
    }  # fmt: skip
    assert [r.url.path for r in fake.sent("GET", "/requests/")] == [
        "/fal-ai/flux/requests/R1/status",
        "/fal-ai/flux/requests/R1",
    ]
    with Image.open(image.path) as opened:
        assert opened.format == "PNG"
    assert (image.width, image.height) == (96, 160)  # what fal actually returned
    (usage,) = rt.meter.usages
    assert (usage.model, usage.units, usage.task_id) == ("fal-ai/flux/schnell", 1, "R1")


def test_flux_dev_polls_under_the_flux_app(tmp_path: Path) -> None:
    fake = Recorder(FakeFal("fal-ai/flux", image_output(), ("COMPLETED",)))
    flux = images(fake, model="fal-ai/flux/dev")
    run_sync(
        flux.image("a cup", size=flux_size(1080, 1080), workdir=tmp_path, runtime=runtime(tmp_path))
    )
    assert str(fake.sent("POST")[0].url) == f"{QUEUE}/fal-ai/flux/dev"
    assert json.loads(fake.sent("POST")[0].content)["num_inference_steps"] == 28
    assert fake.sent("GET", "/status")[0].url.path == "/fal-ai/flux/requests/R1/status"


def test_an_image_flagged_by_the_safety_checker_is_a_refusal(tmp_path: Path) -> None:
    fake = Recorder(FakeFal("fal-ai/flux", image_output(nsfw=True), ("COMPLETED",)))
    with pytest.raises(ProviderRejected, match="safety checker flagged"):
        run_sync(
            images(fake).image(
                "x", size=flux_size(512, 512), workdir=tmp_path, runtime=runtime(tmp_path)
            )
        )
    assert fake.sent("GET", "/files/") == []  # the black image is not downloaded


def test_a_flux_scene_is_a_moving_still_cached_per_aspect(tmp_path: Path) -> None:
    fake = Recorder(FakeFal("fal-ai/flux", image_output(), ("COMPLETED",)))
    stills = FluxStills(images(fake))
    assert (stills.name, stills.model) == ("fal", "fal-ai/flux/schnell")
    rt = runtime(tmp_path)
    clip = asyncio.run(stills.make(scene(), context(tmp_path), workdir=tmp_path / "w", runtime=rt))
    assert isinstance(clip, StillClip) and clip.motion is not None
    assert clip.image.is_file() and clip.width < 1080
    post = json.loads(fake.sent("POST")[0].content)
    assert post["image_size"] == {"width": 768, "height": 1360}  # 9:16 at about a megapixel
    assert post["prompt"].startswith("Slow dolly-in") and post["seed"] == 7
    calls = len(fake.requests)
    square = asyncio.run(
        stills.make(scene(Format.V4X5), context(tmp_path), workdir=tmp_path / "w", runtime=rt)
    )
    assert len(fake.requests) == calls  # 4x5 moves the same 9:16 image
    assert (square.width, square.height) != (clip.width, clip.height)
    assert [u.cached for u in rt.meter.usages] == [False, True]
    assert [u.units for u in rt.meter.usages] == [1, 0]


def test_flux_stills_are_built_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAL_KEY", KEY)
    stills = FluxStills.from_settings(
        ProviderSettings.from_env(os.environ), model="fal-ai/flux/dev"
    )
    assert stills.model == "fal-ai/flux/dev" and stills.images.steps == 28
    monkeypatch.delenv("FAL_KEY")
    with pytest.raises(BadInput, match="FAL_KEY"):
        FluxStills.from_settings(ProviderSettings.from_env(os.environ))
