-- jobs/enqueue: Queues a job, or returns the active job with the same dedupe key.
select * from public.enqueue_job(
  %(user_id)s::uuid, %(kind)s::text, %(payload)s::jsonb, %(project_id)s::uuid, %(dedupe_key)s::text, %(max_attempts)s::integer
)
