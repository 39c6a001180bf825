-- jobs/release: Returns a leased job to the queue at once without using up an attempt (shutdown).
-- Appends a retry event and wakes workers; no row when the worker no longer holds the job.
with released as (
  update public.jobs
    set state = 'queued', lease_owner = null, lease_expires_at = null, run_after = now(),
        attempts = greatest(attempts - 1, 0), updated_at = now()
    where id = %(job_id)s and lease_owner = %(worker)s
      and state in ('planning', 'generating', 'composing', 'qc')
    returning *
), event as (
  insert into public.job_events (job_id, user_id, kind, state, progress, message)
    select id, user_id, 'retry', state, progress, %(reason)s::text from released
)
select released.*, pg_notify('reelforge_jobs', released.id::text) as notified from released
