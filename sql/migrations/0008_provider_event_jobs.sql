-- Provider callbacks belong to the job they were issued for: a worker waiting on a task reads
-- only its own job's callbacks, so a token for one job cannot feed a result into another.
alter table public.provider_events add column job_id uuid;
create index provider_events_task on public.provider_events (provider, subject, job_id)
  where subject is not null;
