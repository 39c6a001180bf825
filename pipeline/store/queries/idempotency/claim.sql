-- idempotency/claim: Claims an Idempotency-Key for the caller; no row when it is taken.
-- A new row, or takes over an expired one (older than the retention) or a stale running one
-- with the same request (its request died).
insert into public.idempotency_keys (user_id, key, request_hash, state, locked_until)
values (%(user_id)s, %(key)s, %(request_hash)s, 'running',
        now() + make_interval(secs => %(lock_seconds)s))
on conflict (user_id, key) do update
  set request_hash = excluded.request_hash, state = 'running', response_status = null,
      response_body = null, created_at = now(), locked_until = excluded.locked_until
  where public.idempotency_keys.created_at < now() - make_interval(secs => %(retention_seconds)s)
     or (public.idempotency_keys.state = 'running'
         and public.idempotency_keys.locked_until < now()
         and public.idempotency_keys.request_hash = excluded.request_hash)
returning key
