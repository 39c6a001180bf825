-- uploads/same_bytes: The user's ready upload of these bytes as this kind, if any.
select id, user_id, kind, state, key, sha256, size, content_type, original_name, created_at
from public.uploads
where user_id = %(user_id)s and kind = %(kind)s and sha256 = %(sha256)s and state = 'ready'
