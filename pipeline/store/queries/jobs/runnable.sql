-- jobs/runnable: Ids of jobs a worker could claim now: queued and due, or running with an expired lease.
select id from public.jobs
where (state = 'queued' and run_after <= now())
   or (state in ('planning', 'generating', 'composing', 'qc') and lease_expires_at < now())
order by coalesce(lease_expires_at, run_after), created_at
limit %(limit)s
