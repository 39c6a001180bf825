"""One repository per aggregate, bundled: what the API, the workers and the command line are
handed instead of running SQL themselves."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.store.analytics import Analytics, AnalyticsRepository
from pipeline.store.api_keys import ApiKeyRepository, ApiKeys
from pipeline.store.billing import Billing, BillingRepository
from pipeline.store.claims import Claims, GenerationClaims
from pipeline.store.credits import CreditRepository, Credits
from pipeline.store.database import Store
from pipeline.store.idempotency import Idempotency, IdempotencyRepository
from pipeline.store.jobs import JobRepository, Jobs
from pipeline.store.projects import ProjectRepository, Projects
from pipeline.store.providers import ProviderEventRepository, ProviderEvents
from pipeline.store.uploads import UploadRepository, Uploads
from pipeline.store.users import UserRepository, Users
from pipeline.store.webhooks import WebhookRepository, Webhooks

__all__ = ["Repositories"]


@dataclass(frozen=True)
class Repositories:
    """Every repository, each behind its Protocol so an in-memory one can stand in."""

    projects: ProjectRepository
    jobs: JobRepository
    credits: CreditRepository
    webhooks: WebhookRepository
    providers: ProviderEventRepository
    analytics: AnalyticsRepository
    idempotency: IdempotencyRepository
    users: UserRepository
    billing: BillingRepository
    uploads: UploadRepository
    api_keys: ApiKeyRepository
    claims: GenerationClaims

    @classmethod
    def postgres(cls, store: Store) -> Repositories:
        """The repositories over one PostgreSQL store."""
        analytics = Analytics(store)
        return cls(
            projects=Projects(store),
            jobs=Jobs(store, analytics=analytics),
            credits=Credits(store),
            webhooks=Webhooks(store),
            providers=ProviderEvents(store),
            analytics=analytics,
            idempotency=Idempotency(store),
            users=Users(store),
            billing=Billing(store),
            uploads=Uploads(store),
            api_keys=ApiKeys(store),
            claims=Claims(store),
        )
