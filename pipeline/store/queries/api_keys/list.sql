-- api_keys/list: The user's active keys, newest first (RLS hides other users' rows).
select id, name, prefix, created_at, last_used_at, revoked_at
from public.api_keys
where user_id = %(user_id)s and revoked_at is null
order by created_at desc, id desc
