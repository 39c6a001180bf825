-- jobs/heartbeat: Extends the lease of a job the worker holds, optionally with progress.
select * from public.heartbeat_job(%(job_id)s::uuid, %(worker)s::text, %(lease_seconds)s::integer, %(progress)s::real)
