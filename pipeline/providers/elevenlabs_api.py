"""What ElevenLabs' voice and transcriber share: the API base, the key, a client per call, retries,
the provider cache and the usage meter.

Errors, https://elevenlabs.io/docs/eleven-api/resources/errors: every error is
``{"detail": {"status"|"code", "message", ...}}`` (401 ``invalid_api_key`` and
``quota_exceeded``, 400 ``voice_not_found``, 429 ``rate_limit_exceeded`` /
``concurrent_limit_exceeded``); 422 is FastAPI's ``{"detail": [{"loc", "msg", "type"}]}``.
The shared client surfaces ``detail.message`` / ``detail[0].msg`` as the provider's reason.

Both adapters look in the provider cache first (key: provider, model, text or audio bytes, voice,
settings), so the same line or file is never paid for twice.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx

from pipeline.errors import BadInput
from pipeline.providers.breaker import CircuitBreaker
from pipeline.providers.cache import ProviderCache
from pipeline.providers.connections import Sleep, provider_session
from pipeline.providers.http import AsyncProviderClient, RetryPolicy
from pipeline.providers.runtime import ProviderRuntime
from pipeline.providers.usage import UsageMeter

__all__ = [
    "API_BASE",
    "KEY_ENV",
    "NO_KEY",
    "PROVIDER",
    "TIMEOUT",
    "ElevenLabsAdapter",
    "language_code",
]

PROVIDER = "elevenlabs"
API_BASE = "https://api.elevenlabs.io"
KEY_ENV = "ELEVENLABS_API_KEY"
# Generation answers after the whole line is spoken; transcription after the whole file is read.
TIMEOUT = httpx.Timeout(120.0, connect=10.0)
NO_KEY = "is not set; create a key at https://elevenlabs.io/app/settings/api-keys"


class ElevenLabsAdapter:
    """What the speaking and the listening adapter share: key, client, retries, cache, meter."""

    name = PROVIDER

    def __init__(
        self,
        api_key: str,
        *,
        model: str,
        runtime: ProviderRuntime | None,
        client: httpx.AsyncClient | None,
        policy: RetryPolicy | None,
        breaker: CircuitBreaker | None,
        sleep: Sleep,
        base_url: str,
    ) -> None:
        if not api_key.strip():
            raise BadInput(KEY_ENV, NO_KEY)
        self.model = model
        self._key = api_key.strip()
        self._client = client
        self._policy = policy
        self._breaker = breaker
        self._sleep = sleep
        self._base = base_url.rstrip("/")
        self.cache: ProviderCache | None = runtime.cache if runtime else None
        self.meter: UsageMeter = runtime.meter if runtime else UsageMeter()

    def _session(self) -> contextlib.AbstractAsyncContextManager[AsyncProviderClient]:
        return provider_session(
            self.name, self._client, policy=self._policy, breaker=self._breaker, sleep=self._sleep,
            timeout=TIMEOUT,
        )  # fmt: skip

    @property
    def _headers(self) -> dict[str, str]:
        return {"xi-api-key": self._key, "accept": "application/json"}

    @contextlib.asynccontextmanager
    async def _claim(self, key: str) -> AsyncIterator[None]:
        if self.cache is None:
            yield
        else:
            async with self.cache.aclaim(key, provider=self.name):
                yield


def language_code(locale: str) -> str:
    """ISO 639-1 from a brand locale: "it-IT" -> "it"."""
    return locale.strip().replace("_", "-").split("-")[0].lower()
