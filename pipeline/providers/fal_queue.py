"""fal's queue API for any model: submit (with a webhook when reachable), status, result, and the
download of the finished asset into the provider cache.

Shapes follow fal's documentation (read 2026):
- Queue: ``POST https://queue.fal.run/{model_id}[/{subpath}]`` answers ``{request_id,
  response_url, status_url, cancel_url}``; ``GET .../requests/{id}/status`` answers ``IN_QUEUE``
  (``queue_position``), ``IN_PROGRESS`` or ``COMPLETED`` (``error``/``error_type`` if it failed);
  ``GET .../requests/{id}`` is the model's output. The subpath (``/dev`` in ``fal-ai/flux/dev``)
  is used to submit, not for status or result: those use the first two segments.
  https://docs.fal.ai/model-endpoints/queue ,
  https://fal.ai/docs/documentation/model-apis/inference/queue
- Webhooks: ``?fal_webhook=<url>`` on submit; fal POSTs ``{request_id, gateway_request_id,
  status: "OK" | "ERROR", payload, error}``.  https://docs.fal.ai/model-endpoints/webhooks
- Errors: ``Authorization: Key $FAL_KEY``; 4xx bodies are ``{"detail": "..."}`` or a list of
  ``{loc, msg, type}`` (422 ``content_policy_violation`` among them).  https://docs.fal.ai/errors
- Outputs: a video model answers ``{video: {url, ...}}``, an image model ``{images: [{url, ...}],
  has_nsfw_concepts, ...}`` (the model pages linked from pipeline/providers/fal.py and flux.py).
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from pipeline.errors import BadInput
from pipeline.providers.breaker import CircuitBreaker
from pipeline.providers.cache import CachedAsset
from pipeline.providers.connections import Connections, Sleep
from pipeline.providers.errors import ProviderError, ProviderRejected
from pipeline.providers.fetch import fetch_result
from pipeline.providers.http import RetryPolicy
from pipeline.providers.runtime import ProviderRuntime
from pipeline.providers.tasks import TaskState, TaskStatus, run_task
from pipeline.settings import ProviderSettings

__all__ = ["FAL_QUEUE_URL", "FalQueue", "app_id", "fal_key"]

FAL_QUEUE_URL = "https://queue.fal.run"
_STATES = {
    "IN_QUEUE": TaskState.QUEUED,
    "IN_PROGRESS": TaskState.RUNNING,
    "COMPLETED": TaskState.SUCCEEDED,
}
_CLIENT_ERROR = re.compile(r"\b4\d\d\b")
_KEY_HINT = (
    "create a key at https://fal.ai/dashboard/keys and set FAL_KEY, or choose another provider"
)


def app_id(model: str) -> str:
    """The queue's name for ``model``: its first two path segments (``fal-ai/flux/dev`` →
    ``fal-ai/flux``), which status and result URLs use."""
    parts = [p for p in model.strip("/").split("/") if p]
    if len(parts) < 2:
        raise BadInput("fal model", f"{model!r} is not a fal model id such as fal-ai/flux/schnell")
    return "/".join(parts[:2])


@dataclass
class _Task:
    """One model's view of the queue, for run_task: status and result under its app id."""

    queue: FalQueue
    model: str
    name: str = "fal"

    async def status(self, task_id: str) -> TaskStatus:
        return await self.queue.status(task_id, model=self.model)

    def from_callback(self, payload: Mapping[str, Any]) -> TaskStatus | None:
        return self.queue.from_callback(payload)


class FalQueue:
    """fal's queue API for any model: submit (with a webhook when reachable), status, result.

    A TaskProvider for one model at a time (:meth:`task`); a COMPLETED status is read together
    with the result, so a final status always carries the asset's URL or fal's reason.
    """

    name = "fal"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = FAL_QUEUE_URL,
        client: httpx.AsyncClient | None = None,
        policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not api_key.strip():
            raise BadInput("FAL_KEY", f"is empty; {_KEY_HINT}")
        self.base_url = base_url.rstrip("/")
        self.sleep = sleep
        self._key = api_key.strip()
        self._connections = Connections(
            self.name, client, policy=policy, breaker=breaker, sleep=sleep
        )

    def task(self, model: str) -> _Task:
        return _Task(self, model)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Key {self._key}"}

    async def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            return await self._connections.get().json(
                method, url, headers=self._headers(), **kwargs
            )
        except ProviderRejected as exc:
            if exc.status in (401, 403):
                raise ProviderRejected(
                    self.name,
                    f"fal did not accept FAL_KEY: {exc.provider_message or 'no reason given'} "
                    f"(HTTP {exc.status}); {_KEY_HINT}",
                    status=exc.status,
                    provider_message=exc.provider_message,
                ) from exc
            raise

    async def submit(
        self, model: str, arguments: Mapping[str, Any], *, webhook: str | None = None
    ) -> str:
        """Queues a request for ``model``; its request id.

        Sent ``once``: an answer lost after fal queued the (paid) request is not retried, since
        a retry would queue and bill a second one."""
        params = {"fal_webhook": webhook} if webhook else None
        url = f"{self.base_url}/{model.strip('/')}"
        try:
            body = await self._json("POST", url, once=True, json=dict(arguments), params=params)
        except ProviderRejected as exc:
            if exc.status == 404:
                raise ProviderRejected(
                    self.name,
                    f"fal has no model {model!r}: {exc.provider_message or 'not found'}",
                    status=exc.status,
                    provider_message=exc.provider_message,
                ) from exc
            raise
        request_id = body.get("request_id") if isinstance(body, dict) else None
        if not isinstance(request_id, str) or not request_id:
            raise ProviderError(self.name, f"submitting to {model} answered without a request_id")
        return request_id

    async def status(self, request_id: str, *, model: str) -> TaskStatus:
        """The request's state; once COMPLETED, its output (the asset URL) or fal's reason."""
        base = f"{self.base_url}/{app_id(model)}/requests/{request_id}"
        body = await self._json("GET", f"{base}/status")
        if not isinstance(body, dict) or body.get("status") not in _STATES:
            raise ProviderError(
                self.name, f"request {request_id}: an unreadable status {body!r:.200}"
            )
        state = _STATES[body["status"]]
        if state is not TaskState.SUCCEEDED:
            return TaskStatus(task_id=request_id, state=state)
        failed = body.get("error")
        try:
            output = await self._json("GET", base)
        except ProviderRejected as exc:
            # the model refused the input (validation or content policy): fal's own words
            reason = exc.provider_message or (str(failed) if failed else "no reason given")
            return TaskStatus(
                task_id=request_id, state=TaskState.FAILED, error=reason, refused=True
            )
        except ProviderError:
            if not failed:
                raise
            return TaskStatus(task_id=request_id, state=TaskState.FAILED, error=str(failed))
        if failed and not isinstance(output, dict):
            return TaskStatus(task_id=request_id, state=TaskState.FAILED, error=str(failed))
        return _from_output(request_id, output)

    def from_callback(self, payload: Mapping[str, Any]) -> TaskStatus | None:
        """A webhook body: ``status`` OK carries the output in ``payload``, ERROR the reason."""
        request_id = payload.get("request_id")
        outcome = payload.get("status")
        if not isinstance(request_id, str) or not request_id or outcome not in ("OK", "ERROR"):
            return None
        body = payload.get("payload")
        if outcome == "OK":
            if body is None:
                reason = payload.get("payload_error") or "fal sent no payload"
                return TaskStatus(task_id=request_id, state=TaskState.FAILED, error=str(reason))
            return _from_output(request_id, body)
        details = _details(body)
        error = str(payload.get("error") or "")
        messages = [m for m, _ in details if m]
        reason = "; ".join(messages) or error or "fal gave no reason"
        refused = any(t == "content_policy_violation" for _, t in details) or bool(
            _CLIENT_ERROR.search(error)
        )
        return TaskStatus(task_id=request_id, state=TaskState.FAILED, error=reason, refused=refused)

    async def run(
        self, model: str, key: str, arguments: Mapping[str, Any], runtime: ProviderRuntime
    ) -> TaskStatus:
        """Submits (once per cache key, journalled) and waits by webhook or polling."""

        async def submit() -> str:
            return await self.submit(model, arguments, webhook=runtime.callback_url(self.name))

        return await run_task(
            self.task(model),
            key,
            submit,
            journal=runtime.journal,
            inbox=runtime.inbox,
            poll_interval=runtime.poll_interval,
            deadline=runtime.task_deadline,
            sleep=self.sleep,
        )

    async def fetch(
        self, status: TaskStatus, key: str, *, runtime: ProviderRuntime, model: str, workdir: Path,
        suffix: str, meta: Mapping[str, Any],
    ) -> CachedAsset:  # fmt: skip
        """Downloads a finished request's asset into the cache under ``key``."""
        assert status.result_url is not None  # _from_output guarantees it on success
        workdir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=workdir, prefix=".fal-") as tmp:
            path = await fetch_result(
                self._connections.get(), status.result_url, Path(tmp) / f"result{suffix}"
            )
            return runtime.cache.put(
                key, path, provider=self.name, model=model,
                meta={"request_id": status.task_id, **meta},
            )  # fmt: skip


def _details(body: Any) -> list[tuple[str, str]]:
    """(msg, type) of each item of a ``{"detail": [...]}`` error body."""
    detail = body.get("detail") if isinstance(body, Mapping) else None
    if isinstance(detail, str):
        return [(detail, "")]
    items = detail if isinstance(detail, list) else []
    return [
        (str(i.get("msg") or ""), str(i.get("type") or "")) for i in items if isinstance(i, Mapping)
    ]


def _from_output(request_id: str, output: Any) -> TaskStatus:
    """A finished request from the model's output: a video's or the first image's URL."""
    if isinstance(output, Mapping):
        video = output.get("video")
        if isinstance(video, Mapping) and isinstance(video.get("url"), str) and video["url"]:
            return TaskStatus(
                task_id=request_id, state=TaskState.SUCCEEDED, result_url=video["url"]
            )
        images = output.get("images")
        first = images[0] if isinstance(images, list) and images else None
        if isinstance(first, Mapping) and isinstance(first.get("url"), str) and first["url"]:
            flags = output.get("has_nsfw_concepts")
            if isinstance(flags, list) and flags and flags[0] is True:
                return TaskStatus(
                    task_id=request_id,
                    state=TaskState.FAILED,
                    error="fal's safety checker flagged the generated image as not safe for work",
                    refused=True,
                )
            return TaskStatus(
                task_id=request_id, state=TaskState.SUCCEEDED, result_url=first["url"]
            )
    return TaskStatus(
        task_id=request_id, state=TaskState.FAILED, error="fal's output has no video or image"
    )


def fal_key(settings: ProviderSettings) -> str:
    """``FAL_KEY`` from the settings; BadInput saying where to get one when it is missing."""
    key = settings.key("fal")
    if key is None:
        raise BadInput("FAL_KEY", f"is not set; {_KEY_HINT}")
    return key
