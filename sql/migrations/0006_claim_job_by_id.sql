-- Claims one named job, as claim_job does for the next one: Modal spawns a container per job id,
-- and that container must run the job it was spawned for, not whichever is next in the queue.
-- Both claims share take_job, which turns a locked runnable job into a claimed (or, past its
-- last attempt, failed) one; claim_job is redefined on it so the two cannot drift apart.

-- A locked, runnable job becomes this worker's under a lease (attempts + 1); a job whose lease
-- expired on its last attempt fails instead. Returns the job as it is afterwards.
create function public.take_job(
  p_job public.jobs, p_worker text, p_lease_seconds integer
) returns public.jobs
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_job public.jobs := p_job;
begin
  if v_job.state <> 'queued' and v_job.attempts >= v_job.max_attempts then
    update public.jobs
      set state = 'failed', lease_owner = null, lease_expires_at = null, updated_at = now(),
          finished_at = now(),
          error = format('lease of %s expired on attempt %s of %s', v_job.lease_owner,
                         v_job.attempts, v_job.max_attempts)
      where id = v_job.id returning * into v_job;
    perform public.add_job_event(v_job, 'state', v_job.error);
    return v_job;
  end if;
  update public.jobs
    set attempts = attempts + 1, lease_owner = p_worker,
        lease_expires_at = now() + make_interval(secs => p_lease_seconds),
        state = case when state = 'queued' then 'planning'::public.job_state else state end,
        updated_at = now()
    where id = v_job.id returning * into v_job;
  perform public.add_job_event(
    v_job, 'claimed', format('%s, attempt %s of %s', p_worker, v_job.attempts, v_job.max_attempts));
  return v_job;
end
$$;

create function public.check_claim_arguments(p_worker text, p_lease_seconds integer) returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_worker is null or length(p_worker) not between 1 and 200 then
    raise exception 'worker name must be 1 to 200 characters' using errcode = '22023';
  end if;
  if p_lease_seconds is null or p_lease_seconds not between 1 and 86400 then
    raise exception 'lease must be between 1 and 86400 seconds' using errcode = '22023';
  end if;
end
$$;

-- Claims the next runnable job (queued and due, or leased with an expired lease) for a worker.
-- A job whose lease expired on its last attempt fails instead of running again.
create or replace function public.claim_job(p_worker text, p_lease_seconds integer default 60)
returns setof public.jobs
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_job public.jobs;
begin
  perform public.check_claim_arguments(p_worker, p_lease_seconds);
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
    v_job := public.take_job(v_job, p_worker, p_lease_seconds);
    if v_job.state <> 'failed' then
      return next v_job;
      return;
    end if;
  end loop;
end
$$;

-- Claims that job if it is runnable; nothing when it is taken, finished or not due.
create function public.claim_job_by_id(
  p_job uuid, p_worker text, p_lease_seconds integer default 60
) returns setof public.jobs
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_job public.jobs;
begin
  perform public.check_claim_arguments(p_worker, p_lease_seconds);
  select * into v_job from public.jobs
    where id = p_job
      and ((state = 'queued' and run_after <= now())
           or (state in ('planning', 'generating', 'composing', 'qc') and lease_expires_at < now()))
    for update skip locked;
  if not found then
    return;
  end if;
  v_job := public.take_job(v_job, p_worker, p_lease_seconds);
  if v_job.state <> 'failed' then
    return next v_job;
  end if;
end
$$;

revoke all on function public.take_job(public.jobs, text, integer),
  public.check_claim_arguments(text, integer),
  public.claim_job_by_id(uuid, text, integer) from public, anon, authenticated;
grant execute on function public.claim_job_by_id(uuid, text, integer) to service_role;
