-- jobs/event_callback: A provider callback's note on the job it concerns (nothing when the job does not exist).
insert into public.job_events (job_id, user_id, kind, state, message)
select id, user_id, 'log', state, %(message)s::text from public.jobs where id = %(job_id)s::uuid
returning id
