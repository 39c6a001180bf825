"""In-memory repositories for unit tests: every repository Protocol of the store, held in dicts
behind one lock, with the rules PostgreSQL enforces (the SQL functions, constraints, trigger and
row-level security of the migrations) and the same models and errors.

Emulated:
  - credits: the balance never goes negative, a hold resolves once, a settle charges at most the
    hold and returns the rest, sum(ledger) = balance, one effect per idempotency key; grants that
    say whether they were replayed; the starting grant the auth.users trigger gives a new user;
  - payment events recorded once per event id, each purchase credited once per checkout session;
  - the queue: claim order, leases that run out by the injected clock, attempts and
    max_attempts, every transition with its NotFound/LeaseLost, the events each SQL function
    appends, dedupe keys, wake-ups on enqueue, retry and release;
  - the outbox the job-state trigger writes on delivered/failed/canceled (one delivery per
    subscribed enabled endpoint, webhook-id ``msg_job_<job>_<state>``), webhook claims under a
    lease, attempts, disabling endpoints;
  - idempotency keys, provider events, projects with ``updated_at`` as their version (pages,
    references in briefs, deletion keeping jobs and their credit history), renders once per
    format, creatives, performance imports (all rows or none);
  - uploads (one ready upload per user, kind and SHA-256; keys only in the owner's folder;
    pending signed uploads) and API keys (hashes unique, revocation at once, last use marked at
    most once a minute);
  - generation claims (one owner per cache key under a lease on the clock; done or failed
    claims and expired leases taken over);
  - what a user may see, as row-level security decides it;
  - the check and foreign-key constraints a caller can hit, as StoreInputError.

Not emulated:
  - transactions: a method given a caller's ``conn`` ignores it and takes effect at once, so
    nothing is rolled back with the caller's transaction (a performance import is the
    exception: it commits when its block ends, or not at all);
  - concurrency beyond one lock around each call: no SKIP LOCKED, deadlocks or serialization
    failures; wake-ups arrive at once, not on commit;
  - time: the injected clock, read once per call (PostgreSQL's ``now()`` is the transaction's
    start); a project's new ``updated_at`` is always later than its last, as
    ``clock_timestamp()`` makes it;
  - error texts follow the SQL's but only the error types, ``where`` and SQLSTATEs are promised.

Layout: ``state`` holds the tables, the lock and the clock; one module per repository
(``credits``, ``projects``, ``jobs`` with the queue's transitions in ``queue``, ``webhooks`` with
the ``outbox`` the jobs also write, ``providers``, ``idempotency``, ``users``, ``analytics``,
``billing``, ``uploads``, ``api_keys``, ``claims``);
``repositories`` bundles them.
"""

from __future__ import annotations

from pipeline.store.memory.repositories import MemoryRepositories
from pipeline.store.memory.state import Clock, ManualClock

__all__ = ["Clock", "ManualClock", "MemoryRepositories"]
