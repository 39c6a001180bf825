-- idempotency/complete: Stores the response of a claimed Idempotency-Key, for replay.
update public.idempotency_keys
set state = 'done', response_status = %(status)s, response_body = %(body)s, locked_until = null
where user_id = %(user_id)s and key = %(key)s and state = 'running'
returning key
