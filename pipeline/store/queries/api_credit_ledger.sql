-- A page of the caller's ledger, newest first, entries older than the cursor id (null: from the top).
select id, delta, balance_after, reason, hold_id, created_at
from public.credit_ledger
where user_id = %(user_id)s and (%(before)s::bigint is null or id < %(before)s::bigint)
order by id desc
limit %(limit)s
