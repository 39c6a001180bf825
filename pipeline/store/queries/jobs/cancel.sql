-- jobs/cancel: Cancels an unfinished job (tenants: their own jobs only).
select * from public.cancel_job(%(job_id)s::uuid)
