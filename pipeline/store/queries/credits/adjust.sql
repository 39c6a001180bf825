-- credits/adjust: Grants, buys, refunds or corrects credits once per idempotency key; returns the ledger entry.
select * from public.safe_adjust_credits(%(user_id)s::uuid, %(amount)s::bigint, %(reason)s::text, %(key)s::text)
