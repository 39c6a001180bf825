-- jobs/get: One job by id, as the current role sees it (and, given a user, only that user's).
select * from public.jobs
where id = %(job_id)s and (%(user_id)s::uuid is null or user_id = %(user_id)s::uuid)
