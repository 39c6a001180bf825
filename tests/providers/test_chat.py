"""ChatScriptWriter against httpx.MockTransport, in the providers' documented request, reply and
error shapes: what we send, parsing, the one repair, refusals, errors, retries, cache and meter."""

from __future__ import annotations

import asyncio
import copy
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from pipeline.brief import Brief, parse_brief
from pipeline.errors import BadInput
from pipeline.palette.model import Palette, PaletteRoles, Swatch
from pipeline.providers import (
    CircuitBreaker,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
    RetryPolicy,
)
from pipeline.providers.cache import ProviderCache
from pipeline.providers.chat import ENDPOINTS, ChatProvider, ChatScriptWriter
from pipeline.providers.runtime import ProviderRuntime
from pipeline.script import OfflineScriptWriter, Script
from pipeline.settings import ProviderSettings
from pipeline.templates.model import Template
from pipeline.templates.registry import get_template

MODELS: dict[ChatProvider, str] = {
    "openrouter": "google/gemini-2.5-flash",
    "openai": "gpt-4o-mini",
    "gemini": "gemini-2.5-flash",
}
Reply = httpx.Response | Exception


class Playback:
    """A MockTransport handler that plays back replies in order and records every request."""

    def __init__(self, *replies: Reply) -> None:
        self._replies: Iterator[Reply] = iter(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = next(self._replies)
        if isinstance(reply, Exception):
            raise reply
        return reply

    def body(self, i: int = -1) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.requests[i].content)
        return data


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def make_brief(tmp_path: Path) -> Callable[..., Brief]:
    for i in range(3):
        Image.new("RGB", (16, 16), (40 * i, 120, 90)).save(tmp_path / f"photo_{i}.png")

    def make(*, locale: str = "en", options: int = 2, name: str = "Aurora Bottle") -> Brief:
        data = {
            "version": 1,
            "product": {
                "name": name,
                "sku": "AUR-500",
                "description": "An insulated steel bottle for long days. Keeps water cold.",
                "features": ["Cold for 24 hours", "Leak-proof lid", "Dishwasher safe"],
                "price": "24.90",
                "currency": "EUR",
                "url": "https://example.com/aurora",
                "photos": [f"photo_{i}.png" for i in range(3)],
            },
            "brand": {"name": "Aurora Goods", "tone": "warm, crafted", "locale": locale},
            "template": "product_showcase",
            "duration": 15,
            "formats": ["9x16"],
            "options": options,
        }
        return parse_brief(data, base_dir=tmp_path)

    return make


@pytest.fixture
def brief(make_brief: Callable[..., Brief]) -> Brief:
    return make_brief()


@pytest.fixture
def template() -> Template:
    return get_template("product_showcase")


def make_palette(names: tuple[str, str, str] = ("sage green", "sand", "charcoal")) -> Palette:
    swatches = (
        Swatch(
            hex="#9caf88", rgb=(156, 175, 136), lab=(70.0, -13.0, 17.0), weight=0.5, name=names[0]
        ),
        Swatch(
            hex="#d8c3a5", rgb=(216, 195, 165), lab=(80.0, 3.2, 15.5), weight=0.3, name=names[1]
        ),
        Swatch(hex="#36454f", rgb=(54, 69, 79), lab=(28.6, -3.4, -7.0), weight=0.2, name=names[2]),
    )
    roles = PaletteRoles(
        background="#9caf88",
        on_background="#111111",
        accent="#36454f",
        on_accent="#ffffff",
        caption_text="#ffffff",
        caption_highlight="#f2c94c",
        caption_outline="#111111",
    )
    return Palette(locale="en", swatches=swatches, roles=roles, source="photos")


@pytest.fixture
def palette() -> Palette:
    return make_palette()


@pytest.fixture
def runtime(tmp_path: Path) -> ProviderRuntime:
    return ProviderRuntime(cache=ProviderCache(tmp_path / "cache"))


@pytest.fixture
def clients() -> Iterator[list[httpx.AsyncClient]]:
    made: list[httpx.AsyncClient] = []
    yield made
    for client in made:
        asyncio.run(client.aclose())


@pytest.fixture
def make_writer(
    runtime: ProviderRuntime, clients: list[httpx.AsyncClient]
) -> Callable[..., ChatScriptWriter]:
    def make(
        handler: Playback,
        *,
        provider: ChatProvider = "openrouter",
        breaker: CircuitBreaker | None = None,
        sleeps: Sleeps | None = None,
        **options: Any,
    ) -> ChatScriptWriter:
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        clients.append(client)
        return ChatScriptWriter(
            provider,
            "sk-test-key",
            MODELS[provider],
            runtime,
            client,
            policy=RetryPolicy(max_attempts=3, base_delay=0.5, jitter=0),
            breaker=breaker or CircuitBreaker(provider),
            sleep=sleeps or Sleeps(),
            **options,
        )

    return make


def good_scripts(brief: Brief, template: Template, palette: Palette) -> tuple[Script, ...]:
    """Scripts that pass every check: the offline writer's, which follow the same plan."""
    return OfflineScriptWriter().write(brief, template, palette, n=brief.options)


def dump(scripts: tuple[Script, ...]) -> dict[str, Any]:
    return {"scripts": [s.model_dump(mode="json") for s in scripts]}


def completion(
    content: str | None,
    *,
    refusal: str | None = None,
    finish: str = "stop",
    usage: tuple[int, int] = (1200, 800),
    **choice: Any,
) -> httpx.Response:
    """A chat completion as OpenAI documents it (OpenRouter and Gemini use the same shape)."""
    return httpx.Response(
        200,
        json={
            "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
            "object": "chat.completion",
            "created": 1741570283,
            "model": "gpt-4o-mini-2024-07-18",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "refusal": refusal,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": finish,
                    **choice,
                }
            ],
            "usage": {
                "prompt_tokens": usage[0],
                "completion_tokens": usage[1],
                "total_tokens": usage[0] + usage[1],
            },
        },
    )


def ok(scripts: tuple[Script, ...] | dict[str, Any]) -> httpx.Response:
    data = scripts if isinstance(scripts, dict) else dump(scripts)
    return completion(json.dumps(data))


def too_wordy(scripts: tuple[Script, ...]) -> dict[str, Any]:
    data = dump(scripts)
    data["scripts"][0]["scenes"][1]["voiceover"] = (
        "This bottle keeps your water icy cold for a full day and a whole night too."
    )
    return data


# -- what we send ------------------------------------------------------------------------------


def test_request_carries_the_brief_palette_template_locale_and_schema(
    make_writer: Callable[..., ChatScriptWriter],
    brief: Brief,
    template: Template,
    palette: Palette,
) -> None:
    playback = Playback(ok(good_scripts(brief, template, palette)))
    writer = make_writer(playback, referer="https://reelforge.example", routing={"sort": "price"})

    writer.write(brief, template, palette, n=2)

    (request,) = playback.requests
    assert str(request.url) == "https://openrouter.ai/api/v1/chat/completions"
    assert request.method == "POST"
    assert request.headers["Authorization"] == "Bearer sk-test-key"
    assert request.headers["HTTP-Referer"] == "https://reelforge.example"
    assert request.headers["X-Title"] == "reelforge"
    body = playback.body()
    assert body["model"] == "google/gemini-2.5-flash"
    assert body["provider"] == {"require_parameters": True, "sort": "price"}
    assert "temperature" not in body  # reasoning models refuse anything but their default
    system, user = body["messages"]
    assert system["role"] == "system" and user["role"] == "user"
    assert "exactly 2 scripts" in system["content"]
    assert "English (locale en)" in system["content"]
    text = user["content"]
    for fact in (
        "Aurora Goods",
        "warm, crafted",
        "sage green (background)",
        "sand",
        "charcoal (accent)",
        "Aurora Bottle",
        "Leak-proof lid",
        "€24.90",
        "product_showcase",
        "locale en",
        "Shop now",
    ):
        assert fact in text, fact
    plan = json.loads(text.rsplit("\n", 1)[-1])
    assert [p["angle"] for p in plan] == ["benefit-led", "feature-led"]
    assert plan[0]["scenes"][0] == {
        "index": 0,
        "slot": "hook",
        "role": "hook",
        "kind": "photo",
        "photo": 0,
        "duration": 3.46,
        "max_chars": 32,
        "max_words": 7,
    }
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "ad_scripts" and fmt["json_schema"]["strict"] is True
    schema = fmt["json_schema"]["schema"]
    assert schema["required"] == ["scripts"] and schema["additionalProperties"] is False
    script = schema["properties"]["scripts"]["items"]
    assert script["additionalProperties"] is False
    assert set(script["required"]) == set(Script.model_fields)
    scene = script["properties"]["scenes"]["items"]
    assert scene["properties"]["slot"]["enum"] == [
        "benefit",
        "end",
        "feature_1",
        "feature_2",
        "hook",
    ]
    assert scene["properties"]["kind"]["enum"] == ["photo", "text_card", "end_card"]
    assert "$ref" not in json.dumps(schema) and "minLength" not in json.dumps(schema)


@pytest.mark.parametrize("provider", ["openai", "gemini"])
def test_openai_and_gemini_presets_call_their_own_endpoint(
    provider: ChatProvider,
    make_writer: Callable[..., ChatScriptWriter],
    brief: Brief,
    template: Template,
    palette: Palette,
) -> None:
    playback = Playback(ok(good_scripts(brief, template, palette)))

    make_writer(playback, provider=provider).write(brief, template, palette, n=2)

    (request,) = playback.requests
    assert str(request.url) == ENDPOINTS[provider].url
    assert request.headers["Authorization"] == "Bearer sk-test-key"
    assert "X-Title" not in request.headers
    body = playback.body()
    assert body["model"] == MODELS[provider]
    assert "provider" not in body


def test_italian_brief_asks_for_italian_words(
    make_writer: Callable[..., ChatScriptWriter],
    make_brief: Callable[..., Brief],
    template: Template,
    palette: Palette,
) -> None:
    brief = make_brief(locale="it-IT")
    playback = Playback(ok(good_scripts(brief, template, palette)))

    scripts = make_writer(playback).write(brief, template, palette, n=2)

    system = playback.body()["messages"][0]["content"]
    assert "Italian (locale it-IT)" in system
    assert "24,90 €" in playback.body()["messages"][1]["content"]
    assert {s.locale for s in scripts} == {"it-IT"}


# -- what we parse -----------------------------------------------------------------------------


def test_valid_reply_becomes_scripts_and_its_tokens_are_metered(
    make_writer: Callable[..., ChatScriptWriter],
    runtime: ProviderRuntime,
    brief: Brief,
    template: Template,
    palette: Palette,
) -> None:
    expected = good_scripts(brief, template, palette)
    playback = Playback(ok(expected))

    scripts = make_writer(playback).write(brief, template, palette, n=2)

    assert scripts == expected
    (usage,) = runtime.meter.usages
    assert (usage.provider, usage.model, usage.what) == (
        "openrouter",
        "google/gemini-2.5-flash",
        "script",
    )
    assert usage.unit == "1k_tokens" and usage.units == 2.0  # 1200 prompt + 800 completion
    assert usage.credits > 0 and not usage.cached


def test_reply_in_a_markdown_fence_is_accepted(
    make_writer: Callable[..., ChatScriptWriter],
    brief: Brief,
    template: Template,
    palette: Palette,
) -> None:
    expected = good_scripts(brief, template, palette)
    playback = Playback(completion(f"```json\n{json.dumps(dump(expected))}\n```"))

    assert make_writer(playback).write(brief, template, palette, n=2) == expected


def test_invalid_reply_gets_one_repair_call_that_carries_the_errors(
    make_writer: Callable[..., ChatScriptWriter],
    runtime: ProviderRuntime,
    brief: Brief,
    template: Template,
    palette: Palette,
) -> None:
    expected = good_scripts(brief, template, palette)
    wordy = json.dumps(too_wordy(expected))
    playback = Playback(completion(wordy), ok(expected))

    scripts = make_writer(playback).write(brief, template, palette, n=2)

    assert scripts == expected
    assert len(playback.requests) == 2
    first, repair = playback.body(0)["messages"], playback.body(1)["messages"]
    assert repair[:2] == first
    assert repair[2] == {"role": "assistant", "content": wordy}
    assert repair[3]["role"] == "user"
    assert "option 1 scene 2: the voice-over has 16 spoken words" in repair[3]["content"]
    assert playback.body(1)["response_format"] == playback.body(0)["response_format"]
    assert [u.what for u in runtime.meter.usages] == ["script", "script repair"]


def test_reply_that_is_not_json_is_repaired(
    make_writer: Callable[..., ChatScriptWriter],
    brief: Brief,
    template: Template,
    palette: Palette,
) -> None:
    expected = good_scripts(brief, template, palette)
    playback = Playback(completion("Sure! Here are your scripts:"), ok(expected))

    assert make_writer(playback).write(brief, template, palette, n=2) == expected
    assert "is not valid JSON" in playback.body(1)["messages"][3]["content"]


def test_invalid_twice_fails_naming_provider_model_and_the_problem(
    make_writer: Callable[..., ChatScriptWriter],
    runtime: ProviderRuntime,
    brief: Brief,
    template: Template,
    palette: Palette,
) -> None:
    wordy = json.dumps(too_wordy(good_scripts(brief, template, palette)))
    playback = Playback(completion(wordy), completion(wordy))

    with pytest.raises(ProviderError) as caught:
        make_writer(playback).write(brief, template, palette, n=2)

    assert type(caught.value) is ProviderError
    message = caught.value.message
    assert "openrouter" in message and "google/gemini-2.5-flash" in message
    assert "invalid scripts twice" in message
    assert "option 1 scene 2: the voice-over has 16 spoken words, more than the 5" in message
    assert len(playback.requests) == 2
    assert not list(runtime.cache.root.rglob("*.asset.json"))  # a failure is not cached


def _drop_scene(data: dict[str, Any]) -> None:
    scenes = data["scripts"][0]["scenes"]
    del scenes[2]
    for i, scene in enumerate(scenes):
        scene["index"] = i


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(data: dict[str, Any]) -> None:
        node: Any = data
        *parents, last = path.split(".")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value

    return apply


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (_set("scripts.0.scenes.1.on_screen_text", "x" * 29), "on-screen text has 29 characters"),
        (_drop_scene, "option 1 has 4 scenes; the plan has 5"),
        (_set("scripts.1.scenes.1.slot", "benefit"), "slot must be 'feature_1' as planned"),
        (_set("scripts.0.scenes.2.duration", 5.0), "duration must be 2.88 s, got 5"),
        (_set("scripts.0.scenes.4.photo", 1), "only photo scenes take a photo index"),
        (_set("scripts.0.angle", "price-led"), "angle must be 'benefit-led'"),
        (_set("scripts.1.hook", "Meet Aurora Bottle"), "option 2 repeats the hook of option 1"),
        (_set("scripts.0.cta", "Shop the whole Aurora collection now"), "call to action has 36"),
        (lambda data: data["scripts"].pop(), "expected 2 scripts (options 1 to 2), got 1"),
        (lambda data: data.pop("scripts"), 'must be a JSON object {"scripts": [...]}'),
    ],
)
def test_each_rule_is_enforced_in_plain_words(
    mutate: Callable[[dict[str, Any]], Any],
    problem: str,
    make_writer: Callable[..., ChatScriptWriter],
    brief: Brief,
    template: Template,
    palette: Palette,
) -> None:
    data = dump(good_scripts(brief, template, palette))
    assert data["scripts"][0]["hook"] == "Meet Aurora Bottle"
    mutate(data)
    bad = copy.deepcopy(data)
    playback = Playback(ok(bad), ok(bad))

    with pytest.raises(ProviderError, match="invalid scripts twice") as caught:
        make_writer(playback).write(brief, template, palette, n=2)

    assert problem in caught.value.message
    assert problem in playback.body(1)["messages"][3]["content"]


# -- refusals and errors -----------------------------------------------------------------------


def test_refusal_is_rejected_with_the_models_reason_and_no_repair(
    make_writer: Callable[..., ChatScriptWriter],
    runtime: ProviderRuntime,
    brief: Brief,
    template: Template,
    palette: Palette,
) -> None:
    playback = Playback(completion(None, refusal="I'm sorry, I can't help with that request."))

    with pytest.raises(ProviderRejected) as caught:
        make_writer(playback, provider="openai").write(brief, template, palette, n=2)

    assert "refused to write the scripts: I'm sorry, I can't help with that request." in (
        caught.value.message
    )
    assert caught.value.provider_message == "I'm sorry, I can't help with that request."
    assert len(playback.requests) == 1
    assert runtime.meter.calls == 1  # the tokens of a refusal are billed too


def test_content_filter_stop_is_rejected_with_the_native_reason(
    make_writer: Callable[..., ChatScriptWriter],
    brief: Brief,
    template: Template,
    palette: Palette,
) -> None:
    playback = Playback(completion(None, finish="content_filter", native_finish_reason="SAFETY"))

    with pytest.raises(ProviderRejected, match=r"content filter \(SAFETY\) blocked the reply"):
        make_writer(playback).write(brief, template, palette, n=2)
    assert len(playback.requests) == 1


def test_invalid_key_surfaces_the_providers_message_and_the_variable(
    make_writer: Callable[..., ChatScriptWriter],
    brief: Brief,
    template: Template,
    palette: Palette,
) -> None:
    playback = Playback(
        httpx.Response(
            401,
            json={
                "error": {
                    "message": "Incorrect API key provided: sk-test-key. You can find your API "
                    "key at https://platform.openai.com/account/api-keys.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            },
        )
    )

    with pytest.raises(ProviderRejected) as caught:
        make_writer(playback, provider="openai").write(brief, template, palette, n=2)

    assert caught.value.status == 401
    assert "Incorrect API key provided" in caught.value.message
    assert "check OPENAI_API_KEY" in caught.value.message
    assert len(playback.requests) == 1


def test_gemini_invalid_key_list_shaped_error_names_the_variable(
    make_writer: Callable[..., ChatScriptWriter],
    brief: Brief,
    template: Template,
    palette: Palette,
) -> None:
    playback = Playback(
        httpx.Response(
            400,
            json=[
                {
                    "error": {
                        "code": 400,
                        "message": "API key not valid. Please pass a valid API key.",
                        "status": "INVALID_ARGUMENT",
                    }
                }
            ],
        )
    )

    with pytest.raises(ProviderRejected, match=r"API key not valid.*check GEMINI_API_KEY"):
        make_writer(playback, provider="gemini").write(brief, template, palette, n=2)


@pytest.mark.parametrize(
    ("provider", "status", "body", "said"),
    [
        (
            "openai",
            404,
            {
                "error": {
                    "message": "The model `gpt-4o-mini` does not exist or you do not have "
                    "access to it.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "model_not_found",
                }
            },
            "The model `gpt-4o-mini` does not exist",
        ),
        (
            "openrouter",
            400,
            {"error": {"code": 400, "message": "google/gemini-2.5-flash is not a valid model ID"}},
            "is not a valid model ID",
        ),
        (
            "gemini",
            404,
            [
                {
                    "error": {
                        "code": 404,
                        "message": "models/gemini-2.5-flash is not found for API version "
                        "v1main, or is not supported for generateContent.",
                        "status": "NOT_FOUND",
                    }
                }
            ],
            "models/gemini-2.5-flash is not found",
        ),
    ],
)
def test_unknown_model_surfaces_the_providers_message(
    provider: ChatProvider,
    status: int,
    body: Any,
    said: str,
    make_writer: Callable[..., ChatScriptWriter],
    brief: Brief,
    template: Template,
    palette: Palette,
) -> None:
    playback = Playback(httpx.Response(status, json=body))

    with pytest.raises(ProviderRejected) as caught:
        make_writer(playback, provider=provider).write(brief, template, palette, n=2)

    assert caught.value.status == status
    assert said in caught.value.message
    assert "check " not in caught.value.message
    assert len(playback.requests) == 1


def test_openrouter_error_inside_a_200_reply_is_an_error(
    make_writer: Callable[..., ChatScriptWriter],
    brief: Brief,
    template: Template,
    palette: Palette,
) -> None:
    playback = Playback(
        httpx.Response(200, json={"error": {"code": 502, "message": "Provider returned error"}})
    )

    with pytest.raises(ProviderUnavailable, match="Provider returned error"):
        make_writer(playback).write(brief, template, palette, n=2)


def test_malformed_json_body_is_a_provider_error(
    make_writer: Callable[..., ChatScriptWriter],
    brief: Brief,
    template: Template,
    palette: Palette,
) -> None:
    playback = Playback(httpx.Response(200, text='{"choices": [{"message": '))

    with pytest.raises(ProviderError, match="malformed JSON"):
        make_writer(playback).write(brief, template, palette, n=2)


def test_429_storm_retries_then_reports_rate_limited(
    make_writer: Callable[..., ChatScriptWriter],
    runtime: ProviderRuntime,
    brief: Brief,
    template: Template,
    palette: Palette,
) -> None:
    limited = httpx.Response(
        429,
        headers={"Retry-After": "2"},
        json={"error": {"code": 429, "message": "Rate limit exceeded: free-models-per-min"}},
    )
    sleeps = Sleeps()
    playback = Playback(limited, limited, limited)

    with pytest.raises(ProviderRateLimited, match="Rate limit exceeded"):
        make_writer(playback, sleeps=sleeps).write(brief, template, palette, n=2)

    assert len(playback.requests) == 3
    assert sleeps.delays == [2.0, 2.0]
    assert runtime.meter.calls == 0


def test_timeouts_retry_then_report_unavailable(
    make_writer: Callable[..., ChatScriptWriter],
    brief: Brief,
    template: Template,
    palette: Palette,
) -> None:
    timeout = httpx.ReadTimeout("timed out")
    playback = Playback(timeout, timeout, timeout)

    with pytest.raises(ProviderUnavailable, match="after 3 attempts: ReadTimeout"):
        make_writer(playback).write(brief, template, palette, n=2)
    assert len(playback.requests) == 3


def test_provider_down_opens_the_breaker_and_later_calls_send_nothing(
    make_writer: Callable[..., ChatScriptWriter],
    brief: Brief,
    template: Template,
    palette: Palette,
) -> None:
    down = httpx.Response(503, json={"error": {"code": 503, "message": "No available provider"}})
    playback = Playback(down, down, down)
    writer = make_writer(playback, breaker=CircuitBreaker("openrouter", failure_threshold=1))

    with pytest.raises(ProviderUnavailable, match="HTTP 503"):
        writer.write(brief, template, palette, n=2)
    with pytest.raises(ProviderUnavailable, match="circuit open"):
        writer.write(brief, template, palette, n=2)

    assert len(playback.requests) == 3


# -- cache -------------------------------------------------------------------------------------


def test_same_brief_again_is_served_from_the_cache_with_zero_calls(
    make_writer: Callable[..., ChatScriptWriter],
    runtime: ProviderRuntime,
    brief: Brief,
    template: Template,
    palette: Palette,
) -> None:
    expected = good_scripts(brief, template, palette)
    first = Playback(ok(expected))
    assert make_writer(first).write(brief, template, palette, n=2) == expected

    again = Playback()  # any request would fail: it has no reply to give
    assert make_writer(again).write(brief, template, palette, n=2) == expected

    assert again.requests == []
    _paid, hit = runtime.meter.usages
    assert hit.cached and hit.credits == 0 and hit.what == "script"
    assert runtime.meter.calls == 1
    (stored,) = runtime.cache.root.rglob("*.asset.json")
    assert [Script.model_validate(s) for s in json.loads(stored.read_text())["scripts"]] == list(
        expected
    )


def test_a_different_palette_is_a_different_question(
    make_writer: Callable[..., ChatScriptWriter],
    brief: Brief,
    template: Template,
    palette: Palette,
) -> None:
    expected = good_scripts(brief, template, palette)
    playback = Playback(ok(expected), ok(expected))
    writer = make_writer(playback)

    writer.write(brief, template, palette, n=2)
    writer.write(brief, template, make_palette(("olive", "cream", "navy")), n=2)

    assert len(playback.requests) == 2
    assert "olive" in playback.body(1)["messages"][1]["content"]


# -- construction ------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["openrouter", "openai", "gemini"])
def test_missing_key_is_bad_input_naming_the_variable(
    provider: ChatProvider, monkeypatch: pytest.MonkeyPatch, runtime: ProviderRuntime
) -> None:
    for endpoint in ENDPOINTS.values():
        monkeypatch.delenv(endpoint.env_var, raising=False)

    with pytest.raises(BadInput) as caught:
        ChatScriptWriter.from_settings(ProviderSettings.from_env(os.environ), provider=provider, runtime=runtime)

    assert caught.value.where == ENDPOINTS[provider].env_var
    assert "is not set" in caught.value.problem
    with pytest.raises(BadInput, match=ENDPOINTS[provider].env_var):
        ChatScriptWriter(provider, " ", MODELS[provider], runtime)


def test_from_settings_takes_the_key_and_the_model_override(
    monkeypatch: pytest.MonkeyPatch, runtime: ProviderRuntime
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "gem-key")
    monkeypatch.delenv("REELFORGE_SCRIPT_MODEL", raising=False)

    default = ChatScriptWriter.from_settings(ProviderSettings.from_env(os.environ), provider="gemini", runtime=runtime)
    monkeypatch.setenv("REELFORGE_SCRIPT_MODEL", "gemini-2.5-pro")
    chosen = ChatScriptWriter.from_settings(ProviderSettings.from_env(os.environ), provider="gemini", runtime=runtime)
    explicit = ChatScriptWriter.from_settings(
        ProviderSettings.from_env(os.environ), provider="gemini", runtime=runtime, model="gemini-2.0-flash"
    )

    assert (default.name, default.model) == ("gemini", "gemini-2.5-flash")
    assert chosen.model == "gemini-2.5-pro"
    assert explicit.model == "gemini-2.0-flash"


def test_unknown_provider_name_is_bad_input(runtime: ProviderRuntime) -> None:
    with pytest.raises(BadInput, match="unknown script provider 'anthropic'"):
        ChatScriptWriter.from_settings(ProviderSettings.from_env(os.environ), provider="anthropic", runtime=runtime)
