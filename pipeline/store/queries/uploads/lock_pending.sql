-- uploads/lock_pending: Locks one of the user's pending uploads while it is completed.
select id, user_id, kind, state, key, sha256, size, content_type, original_name, created_at
from public.uploads
where id = %(id)s and user_id = %(user_id)s and state = 'pending'
for update
