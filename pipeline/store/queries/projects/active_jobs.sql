-- projects/active_jobs: How many of the project's jobs have not ended yet.
select count(*) from public.jobs
where project_id = %(id)s and user_id = %(user_id)s
  and state not in ('delivered', 'failed', 'canceled')
