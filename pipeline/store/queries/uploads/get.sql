-- uploads/get: One of the user's uploads, in any state (RLS hides other users' rows).
select id, user_id, kind, state, key, sha256, size, content_type, original_name, created_at
from public.uploads
where id = %(id)s and user_id = %(user_id)s
