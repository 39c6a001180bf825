-- The job queue: enqueue with a dedupe key, claim with FOR UPDATE SKIP LOCKED under a lease,
-- heartbeat, advance, complete, fail (with retries up to max_attempts) and cancel. Every state
-- change appends a job event; enqueue notifies channel reelforge_jobs.
-- Errors: 22023 bad argument, RF002 unknown user, RF006 unknown job, RF007 lease not held.

-- Appends one job event.
create function public.add_job_event(
  p_job public.jobs, p_kind text, p_message text default null
) returns void
language sql
security definer
set search_path = ''
as $$
  insert into public.job_events (job_id, user_id, kind, state, progress, message)
  values (p_job.id, p_job.user_id, p_kind, p_job.state, p_job.progress, p_message);
$$;

-- Queues a job; while a job with the same dedupe key is active, returns that job instead.
create function public.enqueue_job(
  p_user uuid,
  p_kind text,
  p_payload jsonb default '{}',
  p_project uuid default null,
  p_dedupe_key text default null,
  p_max_attempts integer default 3
) returns public.jobs
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_job public.jobs;
begin
  if p_user is null or not exists (select 1 from auth.users where id = p_user) then
    raise exception 'unknown user %', coalesce(p_user::text, 'null') using errcode = 'RF002';
  end if;
  if p_max_attempts is null or p_max_attempts not between 1 and 100 then
    raise exception 'max_attempts must be between 1 and 100' using errcode = '22023';
  end if;
  if p_project is not null and not exists (
    select 1 from public.projects where id = p_project and user_id = p_user
  ) then
    raise exception 'unknown project % for user %', p_project, p_user using errcode = '22023';
  end if;
  for i in 1..3 loop
    insert into public.jobs (user_id, project_id, kind, payload, max_attempts, dedupe_key)
      values (p_user, p_project, p_kind, coalesce(p_payload, '{}'), p_max_attempts, p_dedupe_key)
      on conflict (user_id, dedupe_key)
        where dedupe_key is not null and state not in ('delivered', 'failed', 'canceled')
        do nothing
      returning * into v_job;
    if found then
      perform public.add_job_event(v_job, 'state', 'queued');
      perform pg_notify('reelforge_jobs', v_job.id::text);
      return v_job;
    end if;
    select * into v_job from public.jobs
      where user_id = p_user and dedupe_key = p_dedupe_key
        and state not in ('delivered', 'failed', 'canceled');
    if found then
      return v_job;
    end if;
    -- The active duplicate finished in between: try the insert again.
  end loop;
  raise exception 'could not enqueue job with dedupe key %', p_dedupe_key using errcode = '40001';
end
$$;

-- Claims the next runnable job (queued and due, or leased with an expired lease) for a worker.
-- A job whose lease expired on its last attempt fails instead of running again.
create function public.claim_job(p_worker text, p_lease_seconds integer default 60)
returns setof public.jobs
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_job public.jobs;
begin
  if p_worker is null or length(p_worker) not between 1 and 200 then
    raise exception 'worker name must be 1 to 200 characters' using errcode = '22023';
  end if;
  if p_lease_seconds is null or p_lease_seconds not between 1 and 86400 then
    raise exception 'lease must be between 1 and 86400 seconds' using errcode = '22023';
  end if;
  loop
    -- Two index scans (jobs_queued, then jobs_leased) rather than one OR that sorts the table.
    select * into v_job from public.jobs
      where state = 'queued' and run_after <= now()
      order by run_after, created_at
      for update skip locked
      limit 1;
    if not found then
      select * into v_job from public.jobs
        where state in ('planning', 'generating', 'composing', 'qc') and lease_expires_at < now()
        order by lease_expires_at
        for update skip locked
        limit 1;
      if not found then
        return;
      end if;
    end if;
    if v_job.state <> 'queued' and v_job.attempts >= v_job.max_attempts then
      update public.jobs
        set state = 'failed', lease_owner = null, lease_expires_at = null, updated_at = now(),
            finished_at = now(),
            error = format('lease of %s expired on attempt %s of %s', v_job.lease_owner,
                           v_job.attempts, v_job.max_attempts)
        where id = v_job.id returning * into v_job;
      perform public.add_job_event(v_job, 'state', v_job.error);
      continue;
    end if;
    update public.jobs
      set attempts = attempts + 1, lease_owner = p_worker,
          lease_expires_at = now() + make_interval(secs => p_lease_seconds),
          state = case when state = 'queued' then 'planning'::public.job_state else state end,
          updated_at = now()
      where id = v_job.id returning * into v_job;
    perform public.add_job_event(
      v_job, 'claimed', format('%s, attempt %s of %s', p_worker, v_job.attempts, v_job.max_attempts));
    return next v_job;
    return;
  end loop;
end
$$;

-- Locks a leased job if the worker still holds its lease.
create function public.lock_leased_job(p_job uuid, p_worker text) returns public.jobs
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_job public.jobs;
begin
  select * into v_job from public.jobs where id = p_job for update;
  if not found then
    raise exception 'unknown job %', coalesce(p_job::text, 'null') using errcode = 'RF006';
  end if;
  if v_job.lease_owner is distinct from p_worker
     or v_job.state not in ('planning', 'generating', 'composing', 'qc') then
    raise exception 'worker % does not hold the lease of job % (state %, owner %)',
      p_worker, p_job, v_job.state, coalesce(v_job.lease_owner, 'none') using errcode = 'RF007';
  end if;
  return v_job;
end
$$;

-- Extends the lease of a job the worker holds, optionally recording progress.
create function public.heartbeat_job(
  p_job uuid, p_worker text, p_lease_seconds integer default 60, p_progress real default null
) returns public.jobs
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_job public.jobs;
begin
  if p_lease_seconds is null or p_lease_seconds not between 1 and 86400 then
    raise exception 'lease must be between 1 and 86400 seconds' using errcode = '22023';
  end if;
  if p_progress is not null and p_progress not between 0 and 1 then
    raise exception 'progress must be between 0 and 1' using errcode = '22023';
  end if;
  perform public.lock_leased_job(p_job, p_worker);
  update public.jobs
    set lease_expires_at = now() + make_interval(secs => p_lease_seconds),
        progress = coalesce(p_progress, progress), updated_at = now()
    where id = p_job returning * into v_job;
  if p_progress is not null then
    perform public.add_job_event(v_job, 'progress');
  end if;
  return v_job;
end
$$;

-- Moves a leased job to its next working stage and stores the finished stage's checkpoint.
create function public.advance_job(
  p_job uuid, p_worker text, p_state public.job_state, p_checkpoint jsonb default null,
  p_progress real default null
) returns public.jobs
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_job public.jobs;
begin
  if p_state is null or p_state not in ('planning', 'generating', 'composing', 'qc') then
    raise exception 'a job can only advance to a working state, not %', coalesce(p_state::text, 'null')
      using errcode = '22023';
  end if;
  if p_progress is not null and p_progress not between 0 and 1 then
    raise exception 'progress must be between 0 and 1' using errcode = '22023';
  end if;
  v_job := public.lock_leased_job(p_job, p_worker);
  update public.jobs
    set state = p_state, progress = coalesce(p_progress, progress), updated_at = now(),
        checkpoints = case when p_checkpoint is null then checkpoints
                      else checkpoints || jsonb_build_object(v_job.state::text, p_checkpoint) end
    where id = p_job returning * into v_job;
  perform public.add_job_event(v_job, 'state');
  return v_job;
end
$$;

-- Finishes a leased job: delivered, or parked for human review.
create function public.complete_job(
  p_job uuid, p_worker text, p_state public.job_state default 'delivered'
) returns public.jobs
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_job public.jobs;
begin
  if p_state is null or p_state not in ('delivered', 'awaiting_review') then
    raise exception 'a job completes as delivered or awaiting_review, not %',
      coalesce(p_state::text, 'null') using errcode = '22023';
  end if;
  perform public.lock_leased_job(p_job, p_worker);
  update public.jobs
    set state = p_state, progress = 1, lease_owner = null, lease_expires_at = null,
        error = null, updated_at = now(),
        finished_at = case when p_state = 'delivered' then now() end
    where id = p_job returning * into v_job;
  perform public.add_job_event(v_job, 'state');
  return v_job;
end
$$;

-- Records a failed attempt: queued again after a delay while attempts remain, else failed.
create function public.fail_job(
  p_job uuid, p_worker text, p_error text, p_retry boolean default true,
  p_retry_delay_seconds integer default 0
) returns public.jobs
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_job public.jobs;
begin
  if p_error is null or length(p_error) = 0 then
    raise exception 'a failure needs a reason' using errcode = '22023';
  end if;
  if p_retry_delay_seconds is null or p_retry_delay_seconds not between 0 and 86400 then
    raise exception 'retry delay must be between 0 and 86400 seconds' using errcode = '22023';
  end if;
  v_job := public.lock_leased_job(p_job, p_worker);
  if p_retry and v_job.attempts < v_job.max_attempts then
    update public.jobs
      set state = 'queued', lease_owner = null, lease_expires_at = null, error = p_error,
          run_after = now() + make_interval(secs => p_retry_delay_seconds), updated_at = now()
      where id = p_job returning * into v_job;
    perform public.add_job_event(v_job, 'retry', p_error);
    perform pg_notify('reelforge_jobs', v_job.id::text);
  else
    update public.jobs
      set state = 'failed', lease_owner = null, lease_expires_at = null, updated_at = now(),
          finished_at = now(),
          error = format('attempt %s of %s failed: %s', v_job.attempts, v_job.max_attempts, p_error)
      where id = p_job returning * into v_job;
    perform public.add_job_event(v_job, 'state', v_job.error);
  end if;
  return v_job;
end
$$;

-- Cancels an unfinished job. Tenants may call it for their own jobs only.
create function public.cancel_job(p_job uuid) returns public.jobs
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_job public.jobs;
begin
  select * into v_job from public.jobs where id = p_job for update;
  if not found or (auth.role() is distinct from 'service_role'
                   and v_job.user_id is distinct from auth.uid()) then
    raise exception 'unknown job %', coalesce(p_job::text, 'null') using errcode = 'RF006';
  end if;
  if v_job.state in ('delivered', 'failed', 'canceled') then
    return v_job;
  end if;
  update public.jobs
    set state = 'canceled', lease_owner = null, lease_expires_at = null, updated_at = now(),
        finished_at = now()
    where id = p_job returning * into v_job;
  perform public.add_job_event(v_job, 'state', 'canceled');
  return v_job;
end
$$;

revoke all on function public.add_job_event(public.jobs, text, text),
  public.enqueue_job(uuid, text, jsonb, uuid, text, integer), public.claim_job(text, integer),
  public.lock_leased_job(uuid, text), public.heartbeat_job(uuid, text, integer, real),
  public.advance_job(uuid, text, public.job_state, jsonb, real),
  public.complete_job(uuid, text, public.job_state),
  public.fail_job(uuid, text, text, boolean, integer), public.cancel_job(uuid)
  from public, anon, authenticated;
grant execute on function public.enqueue_job(uuid, text, jsonb, uuid, text, integer),
  public.claim_job(text, integer), public.heartbeat_job(uuid, text, integer, real),
  public.advance_job(uuid, text, public.job_state, jsonb, real),
  public.complete_job(uuid, text, public.job_state),
  public.fail_job(uuid, text, text, boolean, integer), public.cancel_job(uuid)
  to service_role;
grant execute on function public.cancel_job(uuid) to authenticated;
