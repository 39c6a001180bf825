-- idempotency/get: The caller's unexpired record of an Idempotency-Key.
select request_hash, state, response_status, response_body
from public.idempotency_keys
where user_id = %(user_id)s and key = %(key)s
  and created_at >= now() - make_interval(secs => %(retention_seconds)s)
