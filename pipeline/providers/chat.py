"""ScriptWriter over OpenAI-compatible chat completions: OpenRouter, OpenAI and Gemini's endpoint.

All ``n`` options come from one call (the question: :mod:`pipeline.providers.chat_prompt`): the
model sees every option at once and can keep them apart, the brief is sent and paid for once, and
the result is one cache entry. A reply is checked against :class:`Script` and our own rules
(:mod:`pipeline.providers.chat_reply`); an invalid one gets one repair call carrying the errors.

Shapes, from each provider's reference:
- OpenAI chat completions, ``response_format: {type: json_schema, json_schema: {name, strict,
  schema}}``, reply ``choices[0].message.{content, refusal}``, ``finish_reason`` (``content_filter``),
  ``usage.{prompt_tokens, completion_tokens}``, errors ``{"error": {"message", "type", "code"}}``:
  https://platform.openai.com/docs/api-reference/chat/create,
  https://platform.openai.com/docs/guides/structured-outputs and the generated types in
  github.com/openai/openai-python (src/openai/types/chat/chat_completion*.py).
- OpenRouter: https://openrouter.ai/docs/api-reference/overview (``native_finish_reason``,
  ``choices[].error``), https://openrouter.ai/docs/structured-outputs,
  https://openrouter.ai/docs/features/provider-routing (``provider.require_parameters``),
  https://openrouter.ai/docs/app-attribution (``HTTP-Referer``, ``X-Title``) and
  https://openrouter.ai/docs/api-reference/errors (``{"error": {"code", "message", "metadata"}}``,
  also sent with HTTP 200 when the model fails after it started).
- Gemini: https://ai.google.dev/gemini-api/docs/openai and https://ai.google.dev/api/compatibility
  (Bearer key; errors come as a list, ``[{"error": {"code", "message", "status"}}]``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

from pipeline.brief import Brief
from pipeline.errors import BadInput
from pipeline.palette.model import Palette
from pipeline.providers.breaker import CircuitBreaker
from pipeline.providers.cache import cache_key
from pipeline.providers.chat_prompt import repair_prompt, response_schema, script_messages
from pipeline.providers.chat_reply import InvalidReply, ReplyChecker
from pipeline.providers.connections import provider_session
from pipeline.providers.errors import ProviderError, ProviderRejected, ProviderUnavailable
from pipeline.providers.http import AsyncProviderClient, RetryPolicy
from pipeline.providers.runtime import ProviderRuntime
from pipeline.providers.sync import run_sync
from pipeline.script.model import Script
from pipeline.script.offline import OfflineScriptWriter
from pipeline.settings import ProviderSettings
from pipeline.templates.model import Template

__all__ = ["ENDPOINTS", "ChatEndpoint", "ChatProvider", "ChatScriptWriter"]

_log = logging.getLogger(__name__)

ChatProvider = Literal["openrouter", "openai", "gemini"]


@dataclass(frozen=True)
class ChatEndpoint:
    """Where one provider's chat completions live, the key it takes, and our default model."""

    name: ChatProvider
    url: str
    env_var: str
    default_model: str


ENDPOINTS: Mapping[ChatProvider, ChatEndpoint] = {
    "openrouter": ChatEndpoint(
        "openrouter",
        "https://openrouter.ai/api/v1/chat/completions",
        "OPENROUTER_API_KEY",
        "google/gemini-2.5-flash",
    ),
    "openai": ChatEndpoint(
        "openai", "https://api.openai.com/v1/chat/completions", "OPENAI_API_KEY", "gpt-4o-mini"
    ),
    "gemini": ChatEndpoint(
        "gemini",
        "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions",
        "GEMINI_API_KEY",
        "gemini-2.5-flash",
    ),
}

# Writing up to eight options takes a model far longer than the shared 30 s read timeout.
CHAT_TIMEOUT = httpx.Timeout(120.0, connect=10.0)

_SCHEMA_NAME = "ad_scripts"


@dataclass(frozen=True)
class _Reply:
    content: str | None
    finish_reason: str | None


class ChatScriptWriter:
    """A :class:`~pipeline.script.port.ScriptWriter` backed by an OpenAI-compatible chat model.

    ``routing`` (OpenRouter only) is merged into the request's ``provider`` preferences, which
    always ask for ``require_parameters`` so the request only reaches providers that honour the
    JSON schema. ``referer`` and ``title`` are OpenRouter's optional app attribution headers.
    """

    def __init__(
        self,
        provider: ChatProvider,
        api_key: str,
        model: str,
        runtime: ProviderRuntime,
        client: httpx.AsyncClient | None = None,
        *,
        temperature: float | None = None,
        routing: Mapping[str, Any] | None = None,
        referer: str | None = None,
        title: str | None = "reelforge",
        timeout: httpx.Timeout = CHAT_TIMEOUT,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.endpoint = _endpoint(provider)
        if not api_key.strip():
            raise BadInput(self.endpoint.env_var, f"is not set; {provider} needs an API key")
        if not model.strip():
            raise BadInput("providers.script_model", "must not be empty")
        self.name: str = provider
        self.model = model
        self.runtime = runtime
        self.temperature = temperature
        self.routing = dict(routing or {})
        self._api_key = api_key.strip()
        self._client = client
        self._referer = referer
        self._title = title
        self._timeout = timeout
        self._policy = policy
        self._breaker = breaker
        self._sleep = sleep

    @classmethod
    def from_settings(
        cls,
        settings: ProviderSettings,
        *,
        provider: str,
        runtime: ProviderRuntime,
        model: str | None = None,
        client: httpx.AsyncClient | None = None,
        **options: Any,
    ) -> ChatScriptWriter:
        """The writer for ``provider`` with its key from the environment; BadInput naming the
        variable when it is missing. ``model`` wins over ``REELFORGE_SCRIPT_MODEL``."""
        endpoint = _endpoint(provider)
        key = settings.key(endpoint.name)
        if key is None:
            raise BadInput(
                endpoint.env_var,
                f"is not set; set it to use {provider} for scripts, or choose the offline writer",
            )
        chosen = model or settings.script_model or endpoint.default_model
        return cls(endpoint.name, key, chosen, runtime, client, **options)

    # -- the port -----------------------------------------------------------------------------

    def write(
        self, brief: Brief, template: Template, palette: Palette, *, n: int
    ) -> tuple[Script, ...]:
        return run_sync(self.awrite(brief, template, palette, n=n))

    async def awrite(
        self, brief: Brief, template: Template, palette: Palette, *, n: int
    ) -> tuple[Script, ...]:
        """``write`` for coroutines: the cache first, then one call and at most one repair."""
        if n < 1:
            raise ValueError("n must be at least 1")
        plan = OfflineScriptWriter().write(brief, template, palette, n=n)
        checker = ReplyChecker(plan, template, brief.brand.language, brief.voice.rate)
        messages = script_messages(brief, template, palette, plan)
        schema = response_schema(plan)
        runtime = self.runtime
        key = cache_key(
            self.name,
            self.model,
            prompt="\n\n".join(m["content"] for m in messages),
            params={"schema": schema, "temperature": self.temperature, "routing": self.routing},
        )
        async with runtime.cache.aclaim(key, provider=self.name):
            hit = self._cached(key, checker)
            if hit is not None:
                runtime.meter.cached(self.name, self.model, what="script")
                return hit
            runtime.meter.check(self.name, self.model)
            async with self._api() as api:
                scripts, text = await self._write(api, messages, schema, checker)
            with tempfile.TemporaryDirectory(prefix="reelforge-script-") as tmp:
                path = Path(tmp) / "scripts.json"
                path.write_text(text, encoding="utf-8")
                runtime.cache.put(
                    key, path, provider=self.name, model=self.model, meta={"options": n}
                )
        return scripts

    # -- calls --------------------------------------------------------------------------------

    def _cached(self, key: str, checker: ReplyChecker) -> tuple[Script, ...] | None:
        entry = self.runtime.cache.get(key)
        if entry is None:
            return None
        try:
            return checker.check(entry.path.read_text(encoding="utf-8"))
        except (OSError, InvalidReply) as exc:
            # Written under older rules: ask again rather than hand back what no longer passes.
            _log.warning("%s: ignoring cached scripts %s: %s", self.name, key[:12], exc)
            return None

    def _api(self) -> contextlib.AbstractAsyncContextManager[AsyncProviderClient]:
        return provider_session(
            self.name, self._client, policy=self._policy, breaker=self._breaker, sleep=self._sleep,
            timeout=self._timeout,
        )  # fmt: skip

    async def _write(
        self,
        api: AsyncProviderClient,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        checker: ReplyChecker,
    ) -> tuple[tuple[Script, ...], str]:
        reply = await self._complete(api, messages, schema, what="script")
        try:
            scripts = checker.check(reply.content, finish_reason=reply.finish_reason)
        except InvalidReply as first:
            _log.warning(
                "%s %s: invalid scripts (%s); asking once for a repair",
                self.name,
                self.model,
                first.errors[0],
            )
            repair = [
                *messages,
                {"role": "assistant", "content": reply.content or "(empty reply)"},
                {"role": "user", "content": repair_prompt(first.errors, len(checker.plan))},
            ]
            reply = await self._complete(api, repair, schema, what="script repair")
            try:
                scripts = checker.check(reply.content, finish_reason=reply.finish_reason)
            except InvalidReply as second:
                raise ProviderError(
                    self.name,
                    f"model {self.model} wrote invalid scripts twice (the second time after "
                    f"being told what was wrong): {second.errors[0]}",
                ) from None
        return scripts, json.dumps(
            {"scripts": [s.model_dump(mode="json") for s in scripts]}, ensure_ascii=False
        )

    async def _complete(
        self,
        api: AsyncProviderClient,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        *,
        what: str,
    ) -> _Reply:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": _SCHEMA_NAME, "strict": True, "schema": schema},
            },
        }
        if self.temperature is not None:
            payload["temperature"] = self.temperature
        headers = {"Authorization": f"Bearer {self._api_key}"}
        if self.name == "openrouter":
            payload["provider"] = {"require_parameters": True, **self.routing}
            if self._referer:
                headers["HTTP-Referer"] = self._referer
            if self._title:
                headers["X-Title"] = self._title
        try:
            body = await api.json(
                "POST", self.endpoint.url, json=payload, headers=headers, timeout=self._timeout
            )
        except ProviderRejected as exc:
            raise self._explained(exc) from exc
        return self._read(body, what=what)

    def _explained(self, exc: ProviderRejected) -> ProviderRejected:
        """A rejection, with a pointer to the key's variable when the key is what failed."""
        said = (exc.provider_message or "").lower()
        # Not 403: OpenRouter answers a moderation flag with it, which no key fixes.
        if exc.status != 401 and "api key" not in said and "api_key" not in said:
            return exc
        detail = exc.detail.removeprefix(f"{self.name}: ")
        return ProviderRejected(
            self.name,
            f"{detail} (check {self.endpoint.env_var})",
            status=exc.status,
            provider_message=exc.provider_message,
        )

    def _read(self, body: Any, *, what: str) -> _Reply:
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            raise _in_body_error(self.name, self.model, body["error"])
        choices = body.get("choices") if isinstance(body, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise ProviderError(self.name, f"model {self.model} answered without any choices")
        self._record(body.get("usage"), what=what)
        choice: dict[str, Any] = choices[0]
        if isinstance(choice.get("error"), dict):
            raise _in_body_error(self.name, self.model, choice["error"])
        raw = choice.get("message")
        message: dict[str, Any] = raw if isinstance(raw, dict) else {}
        finish = choice.get("finish_reason")
        refusal = message.get("refusal")
        if isinstance(refusal, str) and refusal.strip():
            raise ProviderRejected(
                self.name,
                f"model {self.model} refused to write the scripts: {refusal.strip()}",
                provider_message=refusal.strip(),
            )
        if finish == "content_filter":
            native = choice.get("native_finish_reason")
            reason = f"content filter ({native})" if native else "content filter"
            raise ProviderRejected(
                self.name,
                f"model {self.model} stopped: its {reason} blocked the reply; revise the brief's "
                f"wording",
                provider_message=reason,
            )
        content = message.get("content")
        return _Reply(
            content if isinstance(content, str) else None,
            finish if isinstance(finish, str) else None,
        )

    def _record(self, usage: Any, *, what: str) -> None:
        tokens = 0
        if isinstance(usage, dict):
            counted = [usage.get(k) for k in ("prompt_tokens", "completion_tokens")]
            tokens = sum(int(v) for v in counted if isinstance(v, int | float))
            total = usage.get("total_tokens")
            if isinstance(total, int | float):
                # Gemini's thinking tokens are billed and only show up in the total.
                tokens = max(tokens, int(total))
        else:
            _log.warning("%s %s: reply carries no usage; recording 0 tokens", self.name, self.model)
        self.runtime.meter.record(self.name, self.model, units=tokens / 1000, what=what)


def _endpoint(provider: str) -> ChatEndpoint:
    for name, endpoint in ENDPOINTS.items():
        if name == provider:
            return endpoint
    known = ", ".join(ENDPOINTS)
    raise BadInput("providers.script", f"unknown script provider {provider!r} (known: {known})")


def _in_body_error(provider: str, model: str, error: Mapping[str, Any]) -> ProviderError:
    """OpenRouter reports a model that failed mid-answer with HTTP 200 and an error object."""
    message = str(error.get("message") or "unknown error")
    code = error.get("code")
    detail = f"model {model} failed: {message}"
    if code in (400, 401, 402, 403, 404):
        return ProviderRejected(provider, detail, status=code, provider_message=message)
    status = code if isinstance(code, int) else None
    return ProviderUnavailable(provider, detail, status=status, provider_message=message)
