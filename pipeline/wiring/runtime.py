"""Where a render runs decides what its provider adapters share: the command line keeps its
cache and task journal in REELFORGE_HOME; a job keeps its spend and task ids in its work folder
across attempts and reads provider callbacks from the database; on Modal, offline scenes fan
out over containers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from uuid import UUID

from pipeline.claims import GenerationClaims
from pipeline.providers.cache import ProviderCache
from pipeline.providers.callbacks import StoreInbox
from pipeline.providers.prices import PriceTable, default_prices
from pipeline.providers.runtime import ProviderRuntime
from pipeline.providers.tasks import TaskJournal
from pipeline.providers.usage import UsageMeter
from pipeline.render.ports import Composer
from pipeline.settings import Settings
from pipeline.store.providers import ProviderEventRepository
from pipeline.visuals import ClipFactory
from pipeline.webhooks import InvalidSecret, secret_key

__all__ = [
    "TASK_JOURNAL",
    "USAGE_LOG",
    "Runtime",
    "RuntimeKind",
    "job_runtime",
    "local_runtime",
    "prices",
]

USAGE_LOG = "provider-usage.jsonl"
TASK_JOURNAL = "provider-tasks.json"


class RuntimeKind(StrEnum):
    LOCAL = "local"  # the command line, the API's script writing
    WORKER = "worker"  # a job, on a local worker or in Modal's render_job
    MODAL = "modal"  # `modal run`: one render in a container, no queue


@dataclass(frozen=True)
class Runtime:
    kind: RuntimeKind
    provider: ProviderRuntime  # the cache, meter, task journal and callbacks the adapters share
    offline: ClipFactory | None = None  # None: offline scenes are drawn in this process
    composer: Composer | None = None  # None: FFmpeg in this process


def prices(settings: Settings) -> PriceTable:
    """The provider price table: REELFORGE_PROVIDER_PRICES, else the bundled one."""
    return default_prices(settings.providers.prices_file)


def _cache(
    settings: Settings, default: Path, *, claims: GenerationClaims | None = None, owner: str = ""
) -> ProviderCache:
    return ProviderCache(
        settings.providers.cache_dir or default, claims=claims, owner=owner or "reelforge"
    )


def local_runtime(
    settings: Settings, *, kind: RuntimeKind = RuntimeKind.LOCAL, offline: ClipFactory | None = None
) -> Runtime:
    """One render outside the queue: the cache and a task journal in REELFORGE_HOME, so a render
    interrupted after a submit picks the task up when run again; polling only."""
    home = settings.home
    provider = ProviderRuntime(
        cache=_cache(settings, home / "cache" / "providers"),
        meter=UsageMeter(prices(settings)),
        journal=TaskJournal(home / "cache" / TASK_JOURNAL),
    )
    return Runtime(kind, provider, offline)


def _callback_secrets(settings: Settings) -> dict[str, str]:
    """Each provider's current callback secret; a malformed one is left out (the API refuses
    its callbacks and names the variable; the worker just polls)."""
    usable: dict[str, str] = {}
    for name, secrets in settings.providers.callback_secrets.items():
        try:
            secret_key(secrets[0])
        except InvalidSecret:
            continue
        usable[name] = secrets[0]
    return usable


def job_runtime(
    settings: Settings,
    *,
    events: ProviderEventRepository,
    job_id: UUID,
    work_dir: Path,
    claims: GenerationClaims | None = None,
    check: Callable[[], None] = lambda: None,
    offline: ClipFactory | None = None,
) -> Runtime:
    """A job's runtime: its spend and task ids in its work folder (kept across attempts), the
    shared cache in the media folder with its generations claimed in ``claims`` (the
    database's, so workers anywhere pay once; None: a file lock per key), callbacks read from
    the database; ``check`` raises once the job is aborted."""
    cache = _cache(
        settings, settings.media_root / ".cache" / "providers", claims=claims, owner=f"job:{job_id}"
    )
    provider = ProviderRuntime(
        cache=cache,
        meter=UsageMeter(prices(settings), log=work_dir / USAGE_LOG),
        journal=TaskJournal(work_dir / TASK_JOURNAL),
        inbox=StoreInbox(events, job_id),
        callback_base=settings.service.public_url,
        job_id=str(job_id),
        callback_secrets=_callback_secrets(settings),
        check=check,
    )
    return Runtime(RuntimeKind.WORKER, provider, offline)
