-- One of the caller's jobs (RLS applies too).
select * from public.jobs where id = %(job_id)s and user_id = %(user_id)s
