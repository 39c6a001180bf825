-- jobs/fail: Records a failed attempt: retried while attempts remain, else failed with the reason.
select * from public.fail_job(%(job_id)s::uuid, %(worker)s::text, %(error)s::text, %(retry)s::boolean, %(delay)s::integer)
