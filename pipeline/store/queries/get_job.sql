-- One job by id, as the current role sees it.
select * from public.jobs where id = %(job_id)s
