-- jobs/event_insert: Append one event to a job's history.
insert into public.job_events (job_id, user_id, kind, state, progress, message)
values (%(job_id)s, %(user_id)s, %(kind)s, %(state)s, %(progress)s, %(message)s)
