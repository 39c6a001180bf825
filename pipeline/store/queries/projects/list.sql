-- projects/list: The caller's projects, newest first, strictly after the cursor's (created_at, id).
select id, name, status, chosen_script, created_at, updated_at
from public.projects
where user_id = %(user_id)s
  and (%(before_at)s::timestamptz is null
       or (created_at, id) < (%(before_at)s::timestamptz, %(before_id)s::uuid))
order by created_at desc, id desc
limit %(limit)s
