"""ProviderClient against httpx.MockTransport: retries, Retry-After, rejections, breaker, JSON."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from pipeline.errors import StageError
from pipeline.providers import (
    DEFAULT_TIMEOUT,
    AsyncProviderClient,
    BreakerState,
    CircuitBreaker,
    ProviderClient,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
    RetryPolicy,
    retry_after_seconds,
)

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
URL = "https://api.acme.test/v1/generate"

Reply = httpx.Response | Exception


class Script:
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


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make_client(
    script: Callable[[httpx.Request], httpx.Response],
    *,
    breaker: CircuitBreaker | None = None,
    policy: RetryPolicy | None = None,
    sleeps: list[float] | None = None,
    retryable: Callable[[httpx.Response], bool] | None = None,
    **client_options: Any,
) -> ProviderClient:
    recorded = sleeps if sleeps is not None else []
    return ProviderClient(
        "acme",
        httpx.Client(transport=httpx.MockTransport(script), **client_options),
        policy=policy or RetryPolicy(),
        breaker=breaker or CircuitBreaker("acme"),
        sleep=recorded.append,
        rng=random.Random(7),
        now=lambda: NOW,
        retryable=retryable,
    )


def ok(body: Any = None) -> httpx.Response:
    return httpx.Response(200, json=body if body is not None else {"ok": True})


def test_429_storm_honours_retry_after_then_succeeds() -> None:
    script = Script(
        httpx.Response(429, headers={"Retry-After": "3"}),
        httpx.Response(429, headers={"Retry-After": "7"}),
        httpx.Response(429, headers={"Retry-After": "0"}),
        ok({"id": "job-1"}),
    )
    sleeps: list[float] = []
    client = make_client(script, sleeps=sleeps)

    assert client.json("POST", URL, json={"prompt": "hi"}) == {"id": "job-1"}
    assert sleeps == [3.0, 7.0, 0.0]
    assert len(script.requests) == 4
    assert all(r.content == b'{"prompt":"hi"}' for r in script.requests)


def test_retry_after_is_capped_at_max_delay() -> None:
    script = Script(httpx.Response(503, headers={"Retry-After": "3600"}), ok())
    sleeps: list[float] = []
    make_client(script, sleeps=sleeps, policy=RetryPolicy(max_delay=20.0)).request("GET", URL)
    assert sleeps == [20.0]


def test_retry_after_as_http_date() -> None:
    when = format_datetime(NOW + timedelta(seconds=12), usegmt=True)
    script = Script(httpx.Response(429, headers={"Retry-After": when}), ok())
    sleeps: list[float] = []
    make_client(script, sleeps=sleeps).request("GET", URL)
    assert sleeps == [12.0]


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("5", 5.0),
        (" 2.5 ", 2.5),
        ("-4", 0.0),
        ("Sat, 01 Mar 2025 12:01:30 GMT", 90.0),
        ("Sat, 01 Mar 2025 11:00:00 GMT", 0.0),
        ("soon", None),
        ("nan", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_parsing(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header, now=NOW) == seconds


def test_503_three_times_then_200_backs_off_exponentially() -> None:
    script = Script(httpx.Response(503), httpx.Response(503), httpx.Response(503), ok())
    sleeps: list[float] = []
    policy = RetryPolicy(base_delay=1.0, jitter=0.0)
    response = make_client(script, sleeps=sleeps, policy=policy).request("GET", URL)
    assert response.status_code == 200
    assert sleeps == [1.0, 2.0, 4.0]


def test_exhausted_5xx_retries_raise_unavailable_naming_the_provider() -> None:
    script = Script(*[httpx.Response(502, json={"error": {"message": "upstream down"}})] * 4)
    breaker = CircuitBreaker("acme", failure_threshold=2)
    with pytest.raises(ProviderUnavailable) as caught:
        make_client(script, breaker=breaker).request("POST", URL + "?key=secret")
    error = caught.value
    assert isinstance(error, StageError)
    assert error.provider == "acme"
    assert error.status == 502
    assert error.provider_message == "upstream down"
    assert "acme" in str(error)
    assert "POST https://api.acme.test/v1/generate" in str(error)
    assert "after 4 attempts" in str(error)
    assert "secret" not in str(error)
    assert len(script.requests) == 4
    # One exhausted call is one breaker failure, not four.
    assert breaker.state is BreakerState.CLOSED


def test_exhausted_429_retries_raise_rate_limited() -> None:
    script = Script(*[httpx.Response(429, headers={"Retry-After": "9"})] * 2)
    with pytest.raises(ProviderRateLimited, match=r"acme.*HTTP 429") as caught:
        make_client(script, policy=RetryPolicy(max_attempts=2)).request("GET", URL)
    assert caught.value.retry_after == 9.0


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("connection refused"),
        httpx.ConnectTimeout("connect timed out"),
        httpx.ReadTimeout("read timed out"),
        httpx.RemoteProtocolError("server disconnected"),
    ],
)
def test_network_errors_and_timeouts_are_retried(failure: Exception) -> None:
    script = Script(failure, failure, ok())
    sleeps: list[float] = []
    assert make_client(script, sleeps=sleeps).json("GET", URL) == {"ok": True}
    assert len(sleeps) == 2


def test_exhausted_network_retries_raise_unavailable() -> None:
    script = Script(*[httpx.ReadTimeout("read timed out")] * 4)
    with pytest.raises(ProviderUnavailable, match=r"acme.*ReadTimeout: read timed out") as caught:
        make_client(script).request("GET", URL)
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    assert caught.value.status is None


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (
            400,
            {"error": {"message": "prompt too long", "type": "invalid_request"}},
            "prompt too long",
        ),
        (401, {"detail": "Invalid API key"}, "Invalid API key"),
        (403, {"errors": [{"message": "plan does not allow video"}]}, "plan does not allow video"),
        (422, {"detail": [{"loc": ["body"], "msg": "field required"}]}, "field required"),
    ],
)
def test_client_errors_are_rejected_without_retry(
    status: int, body: dict[str, Any], message: str
) -> None:
    script = Script(httpx.Response(status, json=body))
    sleeps: list[float] = []
    with pytest.raises(ProviderRejected) as caught:
        make_client(script, sleeps=sleeps).request("POST", URL)
    assert len(script.requests) == 1
    assert sleeps == []
    assert caught.value.status == status
    assert caught.value.provider_message == message
    assert (
        f"acme: POST https://api.acme.test/v1/generate was rejected with HTTP {status}: {message}"
        in str(caught.value)
    )


def test_plain_text_error_body_is_kept_short() -> None:
    script = Script(httpx.Response(400, text="bad\n  request " + "x" * 1000))
    with pytest.raises(ProviderRejected) as caught:
        make_client(script).request("GET", URL)
    message = caught.value.provider_message
    assert message is not None
    assert message.startswith("bad request xxx")
    assert len(message) == 300


def test_malformed_json_raises_provider_error() -> None:
    script = Script(httpx.Response(200, text="<html>oops</html>"))
    with pytest.raises(ProviderError, match=re.escape(f"acme: GET {URL} returned malformed JSON")):
        make_client(script).json("GET", URL)


def test_breaker_opens_after_failures_then_fails_fast_without_requests() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("acme", failure_threshold=2, reset_after=30.0, clock=clock)
    script = Script(*[httpx.Response(500)] * 2)
    client = make_client(script, breaker=breaker, policy=RetryPolicy(max_attempts=1))
    for _ in range(2):
        with pytest.raises(ProviderUnavailable):
            client.request("GET", URL)
    assert breaker.state is BreakerState.OPEN

    sent = len(script.requests)
    for _ in range(5):
        with pytest.raises(ProviderUnavailable, match=r"acme.*circuit open") as caught:
            client.request("GET", URL)
        assert caught.value.retry_after == 30.0
    assert len(script.requests) == sent


def test_half_open_trial_after_reset_closes_on_success() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("acme", failure_threshold=1, reset_after=30.0, clock=clock)
    script = Script(httpx.Response(500), ok(), ok())
    client = make_client(script, breaker=breaker, policy=RetryPolicy(max_attempts=1))
    with pytest.raises(ProviderUnavailable):
        client.request("GET", URL)
    with pytest.raises(ProviderUnavailable, match="circuit open"):
        client.request("GET", URL)
    assert len(script.requests) == 1

    clock.now += 30.0
    assert client.request("GET", URL).status_code == 200
    assert breaker.state is BreakerState.CLOSED
    assert client.request("GET", URL).status_code == 200


def test_half_open_trial_failure_reopens() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("acme", failure_threshold=1, reset_after=30.0, clock=clock)
    script = Script(httpx.Response(500), httpx.ConnectError("refused"))
    client = make_client(script, breaker=breaker, policy=RetryPolicy(max_attempts=1))
    with pytest.raises(ProviderUnavailable):
        client.request("GET", URL)
    clock.now += 30.0
    with pytest.raises(ProviderUnavailable, match="refused"):
        client.request("GET", URL)
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(ProviderUnavailable, match="circuit open"):
        client.request("GET", URL)
    assert len(script.requests) == 2


def test_a_rejection_counts_as_success_for_the_breaker() -> None:
    breaker = CircuitBreaker("acme", failure_threshold=2)
    breaker.record_failure()
    with pytest.raises(ProviderRejected):
        make_client(Script(httpx.Response(401)), breaker=breaker).request("GET", URL)
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED


def test_jitter_stays_within_bounds() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=20.0, jitter=0.2)
    rng = random.Random(1)
    for retry in range(1, 5):
        nominal = 0.5 * 2 ** (retry - 1)
        delays = [policy.backoff(retry, rng) for _ in range(500)]
        assert all(nominal * 0.8 <= d <= nominal * 1.2 for d in delays)
        assert max(delays) - min(delays) > nominal * 0.3  # jitter actually spreads them
    assert all(policy.backoff(10, rng) <= 20.0 for _ in range(100))


@pytest.mark.parametrize(
    "options",
    [
        {"max_attempts": 0},
        {"base_delay": -1.0},
        {"base_delay": 30.0, "max_delay": 20.0},
        {"jitter": 1.0},
    ],
)
def test_retry_policy_rejects_nonsense(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must"):
        RetryPolicy(**options)


def timeouts_seen(call: Any = "unset", client: Any = "unset") -> dict[str, float | None]:
    """The timeout each phase of a request got, for a per-call and a client ``timeout``."""
    seen: dict[str, float | None] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.update(request.extensions["timeout"])
        return ok()

    call_options = {} if call == "unset" else {"timeout": call}
    client_options = {} if client == "unset" else {"timeout": client}
    make_client(handler, **client_options).request("GET", URL, **call_options)
    return seen


def test_an_unbounded_client_gets_the_default_timeout() -> None:
    assert timeouts_seen(client=None) == DEFAULT_TIMEOUT.as_dict()


def test_an_unbounded_call_gets_the_default_timeout() -> None:
    assert timeouts_seen(call=None, client=60.0) == DEFAULT_TIMEOUT.as_dict()


def test_the_clients_own_timeout_is_kept_and_gaps_filled() -> None:
    seen = timeouts_seen(client=httpx.Timeout(5.0, read=None))
    assert seen == {"connect": 5.0, "read": DEFAULT_TIMEOUT.read, "write": 5.0, "pool": 5.0}


def test_a_per_call_timeout_wins() -> None:
    seen = timeouts_seen(call=2.0, client=60.0)
    assert seen == {"connect": 2.0, "read": 2.0, "write": 2.0, "pool": 2.0}


# -- requests that must not arrive twice (once=True) -------------------------------------------


@pytest.mark.parametrize(
    "not_sent",
    [
        httpx.ConnectError("connection refused"),
        httpx.ConnectTimeout("connect timed out"),
        httpx.PoolTimeout("no free connection"),
        httpx.Response(429, headers={"Retry-After": "2"}),
    ],
)
def test_once_still_retries_what_proves_the_request_was_not_received(not_sent: Reply) -> None:
    script = Script(not_sent, not_sent, ok({"id": "task-1"}))
    sleeps: list[float] = []
    answer = make_client(script, sleeps=sleeps).json("POST", URL, json={"n": 1}, once=True)
    assert answer == {"id": "task-1"}
    assert len(script.requests) == 3 and len(sleeps) == 2


@pytest.mark.parametrize(
    "maybe_received",
    [
        httpx.ReadTimeout("read timed out"),
        httpx.WriteTimeout("write timed out"),
        httpx.ReadError("connection reset"),
        httpx.RemoteProtocolError("server disconnected"),
        httpx.Response(500, json={"error": {"message": "internal"}}),
        httpx.Response(502, text="Bad Gateway"),
        httpx.Response(503, headers={"Retry-After": "1"}),
    ],
)
def test_once_does_not_retry_what_the_provider_may_have_accepted(maybe_received: Reply) -> None:
    script = Script(maybe_received, ok({"id": "task-2"}))
    sleeps: list[float] = []
    breaker = CircuitBreaker("acme", failure_threshold=1)
    with pytest.raises(ProviderUnavailable) as caught:
        make_client(script, sleeps=sleeps, breaker=breaker).json("POST", URL, once=True)
    assert len(script.requests) == 1 and sleeps == []
    assert "may have accepted it, so it was not retried (to avoid paying twice)" in str(
        caught.value
    )
    assert "POST https://api.acme.test/v1/generate" in str(caught.value)
    if isinstance(maybe_received, httpx.Response):
        assert caught.value.status == maybe_received.status_code
    assert breaker.state is BreakerState.OPEN  # one failed call, counted once


def test_once_is_not_passed_on_to_httpx_and_the_async_client_keeps_it_too() -> None:
    script = Script(httpx.ReadTimeout("late"), ok())
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(script)) as http:
            client = AsyncProviderClient(
                "acme", http, breaker=CircuitBreaker("acme"), sleep=sleep, rng=random.Random(7)
            )
            with pytest.raises(ProviderUnavailable, match="not retried"):
                await client.json("POST", URL, once=True)

    asyncio.run(go())
    assert len(script.requests) == 1 and sleeps == []


# -- answers the provider says a retry will not change (retryable) ------------------------------


def _not_an_account_error(response: httpx.Response) -> bool:
    return bool(response.json().get("code") != 1102)


def test_a_429_the_provider_calls_final_is_rejected_at_once() -> None:
    script = Script(
        httpx.Response(429, json={"code": 1102, "message": "Account balance not enough"})
    )
    sleeps: list[float] = []
    breaker = CircuitBreaker("acme", failure_threshold=1)
    client = make_client(script, sleeps=sleeps, breaker=breaker, retryable=_not_an_account_error)
    with pytest.raises(ProviderRejected) as caught:
        client.request("POST", URL)
    assert len(script.requests) == 1 and sleeps == []
    assert caught.value.status == 429
    assert caught.value.provider_message == "Account balance not enough"
    assert "rejected with HTTP 429: Account balance not enough" in str(caught.value)
    assert isinstance(caught.value.__cause__, httpx.HTTPStatusError)  # the answer, for adapters
    assert breaker.state is BreakerState.CLOSED  # the provider is up and answering


def test_retryable_answers_are_still_retried() -> None:
    script = Script(
        httpx.Response(429, json={"code": 1302, "message": "too fast"}),
        httpx.Response(503, json={"code": 5001, "message": "maintenance"}),
        ok(),
    )
    sleeps: list[float] = []
    client = make_client(script, sleeps=sleeps, retryable=_not_an_account_error)
    assert client.request("POST", URL).status_code == 200
    assert len(sleeps) == 2
