"""Frozen result models for the store's rows: projects, jobs and their events and outputs, credit
holds, ledger entries and grants, payment events, idempotency keys, webhook endpoints and
deliveries, creatives."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from pipeline.creative import CreativeAttributes

__all__ = [
    "ApiKey",
    "ApiKeyOwner",
    "AssetCost",
    "BillingEvent",
    "BillingOutcome",
    "CheckoutPayment",
    "ClaimedDelivery",
    "CreditGrant",
    "CreditHold",
    "DeliveryStatus",
    "HoldStatus",
    "IdempotencyRecord",
    "Job",
    "JobDetail",
    "JobEvent",
    "JobListing",
    "JobState",
    "KeyClaim",
    "LedgerEntry",
    "Migration",
    "Project",
    "ProjectDeletion",
    "ProjectListing",
    "Render",
    "StoredCreative",
    "Upload",
    "UploadDeletion",
    "WebhookDelivery",
    "WebhookEndpoint",
]


class JobState(StrEnum):
    """A job's state, as the ``job_state`` enum in SQL."""

    QUEUED = "queued"
    PLANNING = "planning"
    GENERATING = "generating"
    COMPOSING = "composing"
    QC = "qc"
    AWAITING_REVIEW = "awaiting_review"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELED = "canceled"


class HoldStatus(StrEnum):
    """A credit hold's status."""

    HELD = "held"
    SETTLED = "settled"
    RELEASED = "released"


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Job(_Row):
    """A job row."""

    id: UUID
    user_id: UUID
    project_id: UUID | None
    kind: str
    payload: dict[str, Any]
    state: JobState
    progress: float
    attempts: int
    max_attempts: int
    run_after: datetime
    lease_owner: str | None
    lease_expires_at: datetime | None
    error: str | None
    checkpoints: dict[str, Any]
    dedupe_key: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class JobListing(_Row):
    """A job as a list shows it: no payload or checkpoints."""

    id: UUID
    project_id: UUID | None
    kind: str
    state: JobState
    progress: float
    attempts: int
    error: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class Render(_Row):
    """One published output of a job (one per format)."""

    format: str
    path: str
    width: int
    height: int
    duration_s: float
    loudness_lufs: float | None
    created_at: datetime


class JobEvent(_Row):
    """One appended job event."""

    id: int
    job_id: UUID
    user_id: UUID
    kind: str
    state: JobState
    progress: float | None
    message: str | None
    created_at: datetime


class CreditHold(_Row):
    """Credits reserved for a job."""

    id: UUID
    user_id: UUID
    job_id: UUID | None
    amount: int
    status: HoldStatus
    settled_amount: int | None
    idempotency_key: str | None
    created_at: datetime
    resolved_at: datetime | None


class JobDetail(_Row):
    """A job read in one transaction with its outputs and its credit hold (None until held)."""

    job: Job
    renders: list[Render]
    hold: CreditHold | None


class LedgerEntry(_Row):
    """One append-only credit ledger entry."""

    id: int
    user_id: UUID
    delta: int
    balance_after: int
    reason: str
    hold_id: UUID | None
    idempotency_key: str | None
    created_at: datetime


class CreditGrant(_Row):
    """A grant by the service: its ledger entry, and whether its key had already taken effect
    (``replayed``: the entry is the first grant's, and nothing changed)."""

    entry: LedgerEntry
    replayed: bool


class BillingOutcome(StrEnum):
    """What a payment event did, as ``billing_events.outcome``."""

    CREDITED = "credited"
    ALREADY_CREDITED = "already_credited"  # another event of the same checkout session credited
    UNKNOWN_USER = "unknown_user"  # the payment names no existing user: recorded, not credited
    NOT_PAID = "not_paid"  # the session is not paid (yet): an async payment may follow
    INVALID = "invalid"  # the session lacks what a purchase needs (credits, its id)
    IGNORED = "ignored"  # an event type reelforge does not act on


class CheckoutPayment(BaseModel):
    """A verified payment event as the store records it. ``outcome`` None asks the store to
    credit ``credits`` to ``user_id`` once per checkout session; any other outcome is recorded
    as given (with ``detail``) and credits nothing."""

    model_config = ConfigDict(frozen=True)

    provider: str = "stripe"
    event_id: str
    event_type: str
    livemode: bool = False
    checkout_session: str | None = None
    client_reference_id: str | None = None
    user_id: UUID | None = None
    credits: int | None = None
    amount_total: int | None = None
    currency: str | None = None
    outcome: BillingOutcome | None = None
    detail: str | None = None


class BillingEvent(_Row):
    """A recorded payment event; ``duplicate`` when this delivery repeated a recorded one."""

    id: int
    provider: str
    event_id: str
    event_type: str
    livemode: bool
    checkout_session: str | None
    client_reference_id: str | None
    credits: int | None
    amount_total: int | None
    currency: str | None
    outcome: BillingOutcome
    detail: str | None
    ledger_id: int | None
    received_at: datetime
    duplicate: bool = False


class Migration(_Row):
    """A migration file and, once applied, when."""

    version: str
    name: str
    applied_at: datetime | None = None
    modified: bool = False


class Project(_Row):
    """A project: the brief, its script options (as stored JSON) and the chosen one."""

    id: UUID
    name: str
    status: str
    brief: dict[str, Any]
    script_options: list[dict[str, Any]]
    chosen_script: int | None
    created_at: datetime
    updated_at: datetime


class ProjectListing(_Row):
    """A project as a list shows it: no brief or script options."""

    id: UUID
    name: str
    status: str
    chosen_script: int | None
    created_at: datetime
    updated_at: datetime


class ProjectDeletion(_Row):
    """What deleting a project removed: its brief (for the uploads it names), the jobs detached
    from it (kept, with their credit holds and ledger entries, as money history) and the blob
    keys of their recorded outputs, which the caller removes from the blob store."""

    brief: dict[str, Any]
    job_ids: list[UUID]
    render_paths: list[str]


class Upload(_Row):
    """A user's uploaded file: ``ready`` once its content was checked and stored under ``key``;
    ``pending`` while a browser's signed upload to a staging key is not completed yet."""

    id: UUID
    user_id: UUID
    kind: str
    state: str
    key: str
    sha256: str | None
    size: int | None
    content_type: str | None
    original_name: str | None
    created_at: datetime


class UploadDeletion(_Row):
    """A deleted upload, and whether another upload of the user still names its blob (the same
    bytes under another kind): only when none does may the blob go."""

    upload: Upload
    key_in_use: bool


class ApiKey(_Row):
    """An API key as its owner sees it: never the key, only its first characters."""

    id: UUID
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyOwner(_Row):
    """Whose an active key is, with the stored hash for a constant-time comparison."""

    id: UUID
    user_id: UUID
    secret_hash: str


class IdempotencyRecord(_Row):
    """An unexpired Idempotency-Key: the request it belongs to and, once done, its response."""

    request_hash: str
    state: str
    response_status: int | None
    response_body: Any


class KeyClaim(_Row):
    """What claiming an Idempotency-Key found: ``claimed``, or the key's record (None when it
    vanished between the two reads: claim again)."""

    claimed: bool
    record: IdempotencyRecord | None = None


class DeliveryStatus(StrEnum):
    """A delivery's status: pending (due or waiting to retry), delivered, failed, or dead
    (its endpoint was disabled before it got through)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    DEAD = "dead"


class WebhookEndpoint(_Row):
    """A tenant's endpoint; ``enabled`` is false with a reason and time once it is disabled."""

    id: UUID
    user_id: UUID
    url: str
    secret: SecretStr
    events: list[str]
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    failed_deliveries_in_row: int
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookDelivery(_Row):
    """One event for one endpoint; ``webhook_id`` is sent on every attempt."""

    id: UUID
    webhook_id: str
    user_id: UUID
    endpoint_id: UUID
    event_type: str
    payload: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class ClaimedDelivery(WebhookDelivery):
    """A delivery leased to a dispatcher, with where to send it and the secrets to sign with."""

    url: str
    secret: SecretStr
    previous_secret: SecretStr | None

    @property
    def signing_secrets(self) -> list[str]:
        """The current secret, then the previous one while its rotation grace period lasts."""
        found = [self.secret, self.previous_secret]
        return [s.get_secret_value() for s in found if s is not None]


class StoredCreative(CreativeAttributes):
    """A recorded creative: its attributes, the job and project that made it, and when."""

    job_id: UUID | None = None
    project_id: UUID | None = None
    created_at: datetime


class AssetCost(BaseModel):
    """One creative and what its job was charged, as the ledger and the renders table say."""

    model_config = ConfigDict(frozen=True)

    creative_id: str
    template: str
    job_id: UUID | None
    job_credits: int | None = Field(description="the job's settled credits; None: no charge")
    duration_s: float | None = Field(description="this creative's render length, if recorded")
    job_durations: tuple[float, ...] = Field(description="the lengths of all the job's outputs")
