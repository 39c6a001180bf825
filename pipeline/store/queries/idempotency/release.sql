-- idempotency/release: Gives up a running claim whose request failed unexpectedly, so a retry runs it again.
delete from public.idempotency_keys
where user_id = %(user_id)s and key = %(key)s and state = 'running'
