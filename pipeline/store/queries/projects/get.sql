-- projects/get: One of the caller's projects (RLS hides other users' rows: no row, never an error).
select id, name, status, brief, script_options, chosen_script, created_at, updated_at
from public.projects
where id = %(id)s and user_id = %(user_id)s
