-- credits/hold: Holds credits for paid work once per idempotency key; returns the hold.
select * from public.hold_credits(%(user_id)s::uuid, %(amount)s::bigint, %(job_id)s::uuid, %(key)s::text)
