-- projects/detach_jobs: The project's ended jobs kept for their credit history, without the project or the brief in their payload.
update public.jobs set project_id = null, payload = '{}'::jsonb, updated_at = now()
where project_id = %(id)s and user_id = %(user_id)s
returning id
