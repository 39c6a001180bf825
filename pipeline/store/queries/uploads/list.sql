-- uploads/list: The user's ready uploads, newest first, strictly after the cursor's (created_at, id).
select id, user_id, kind, state, key, sha256, size, content_type, original_name, created_at
from public.uploads
where user_id = %(user_id)s and state = 'ready'
  and (%(before_at)s::timestamptz is null
       or (created_at, id) < (%(before_at)s::timestamptz, %(before_id)s::uuid))
order by created_at desc, id desc
limit %(limit)s
