-- projects/delete_renders: Deletes the recorded outputs of the project's jobs; their blob keys.
delete from public.renders r
using public.jobs j
where j.id = r.job_id and j.user_id = r.user_id
  and j.project_id = %(id)s and j.user_id = %(user_id)s
returning r.path
