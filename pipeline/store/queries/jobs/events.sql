-- jobs/events: A job's events after a given event id, oldest first (for progress streams).
select * from public.job_events where job_id = %(job_id)s and id > %(after_id)s order by id limit %(limit)s
