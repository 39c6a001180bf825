-- jobs/list: The caller's jobs, newest first, strictly after the cursor's (created_at, id).
select id, project_id, kind, state, progress, attempts, error, created_at, updated_at, finished_at
from public.jobs
where user_id = %(user_id)s
  and (%(before_at)s::timestamptz is null
       or (created_at, id) < (%(before_at)s::timestamptz, %(before_id)s::uuid))
order by created_at desc, id desc
limit %(limit)s
