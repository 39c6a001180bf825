"""What every provider adapter is given by the job that runs it: cache, meter, journal, inbox."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pipeline.providers.cache import ProviderCache
from pipeline.providers.callbacks import callback_token
from pipeline.providers.tasks import CallbackInbox, NoInbox, TaskJournal
from pipeline.providers.usage import UsageMeter
from pipeline.timeline import StillClip, VideoClip
from pipeline.visuals.port import ClipContext, ClipRequest

__all__ = ["ProviderRuntime", "SceneSource"]


@dataclass(frozen=True)
class ProviderRuntime:
    """Shared by the adapters of one render (one job).

    - ``cache``: content-addressed assets shared by every job; check it before any paid call.
    - ``meter``: record every paid call (``meter.record``) and every cache hit (``meter.cached``).
    - ``journal``: the job's submitted task ids (None outside a job: nothing to resume).
    - ``inbox``, ``callback_base`` and ``callback_secrets``: callbacks reach the service at
      ``callback_url(name)`` when it is public and holds the provider's secret; else poll only.
    """

    cache: ProviderCache
    meter: UsageMeter = field(default_factory=UsageMeter)
    journal: TaskJournal | None = None
    inbox: CallbackInbox = field(default_factory=NoInbox)
    callback_base: str | None = None
    job_id: str | None = None
    callback_secrets: Mapping[str, str] = field(default_factory=dict)  # provider → whsec_ secret
    poll_interval: float = 5.0
    task_deadline: float = 900.0
    # Raises when the job was canceled or lost its lease (the worker's JobControl.check): the
    # scenes in flight stop waiting (their submitted tasks stay in the journal), none start.
    check: Callable[[], None] = field(default=lambda: None)

    def callback_url(self, provider: str) -> str | None:
        """Where ``provider`` should call back for this job, or None to poll only: the service
        must be public (``callback_base``) and hold the provider's secret to check the token."""
        secret = self.callback_secrets.get(provider)
        if not self.callback_base or not self.job_id or not secret:
            return None
        token = callback_token(secret, provider, self.job_id)
        base = self.callback_base.rstrip("/")
        return f"{base}/v1/providers/{provider}/callback?job_id={self.job_id}&token={token}"

    @classmethod
    def local(cls, root: Path) -> ProviderRuntime:
        return cls(cache=ProviderCache(root))


class SceneSource(Protocol):
    """A provider that makes one scene's picture (a generated clip, a stock clip, a presenter).

    ``attempt`` is 0 for the first try and 1 for the regeneration after a failed clip check: it
    goes into the cache key, so the regeneration is a new question, not the cached bad answer.
    Implementations check ``runtime.cache`` first (a hit records ``meter.cached`` and makes no
    call), record what they pay with ``meter.record``, and raise ProviderError subclasses.
    """

    name: str
    model: str

    async def make(
        self,
        request: ClipRequest,
        ctx: ClipContext,
        *,
        workdir: Path,
        runtime: ProviderRuntime,
        attempt: int = 0,
    ) -> StillClip | VideoClip:
        """The picture for ``request`` (photo scenes; cards stay with the offline adapter)."""
        ...
