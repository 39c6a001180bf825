-- credits/ledger: A page of the caller's ledger, newest first, older than the cursor id (null: from the top).
select id, user_id, delta, balance_after, reason, hold_id, idempotency_key, created_at
from public.credit_ledger
where user_id = %(user_id)s and (%(before)s::bigint is null or id < %(before)s::bigint)
order by id desc
limit %(limit)s
