-- idempotency/cleanup: Deletes Idempotency-Keys past their retention (service role; run periodically).
delete from public.idempotency_keys
where created_at < now() - make_interval(secs => %(retention_seconds)s)
