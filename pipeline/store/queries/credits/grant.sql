-- credits/grant: A grant by the service once per key ('grant:' || key); the ledger entry and whether the key had already taken effect.
select (g.entry).*, g.replayed
from public.grant_credits(%(user_id)s::uuid, %(amount)s::bigint, %(reason)s::text, %(key)s::text) g
