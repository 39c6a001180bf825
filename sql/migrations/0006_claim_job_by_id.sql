-- Claims one named job, as claim_job does for the next one: Modal spawns a container per job id,
-- and that container must run the job it was spawned for, not whichever is next in the queue.
-- Nothing is returned when the job is not runnable (taken by another worker, finished, or not due).

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
  if p_worker is null or length(p_worker) not between 1 and 200 then
    raise exception 'worker name must be 1 to 200 characters' using errcode = '22023';
  end if;
  if p_lease_seconds is null or p_lease_seconds not between 1 and 86400 then
    raise exception 'lease must be between 1 and 86400 seconds' using errcode = '22023';
  end if;
  select * into v_job from public.jobs
    where id = p_job
      and ((state = 'queued' and run_after <= now())
           or (state in ('planning', 'generating', 'composing', 'qc') and lease_expires_at < now()))
    for update skip locked;
  if not found then
    return;
  end if;
  if v_job.state <> 'queued' and v_job.attempts >= v_job.max_attempts then
    update public.jobs
      set state = 'failed', lease_owner = null, lease_expires_at = null, updated_at = now(),
          finished_at = now(),
          error = format('lease of %s expired on attempt %s of %s', v_job.lease_owner,
                         v_job.attempts, v_job.max_attempts)
      where id = v_job.id returning * into v_job;
    perform public.add_job_event(v_job, 'state', v_job.error);
    return;
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
end
$$;

revoke all on function public.claim_job_by_id(uuid, text, integer) from public, anon, authenticated;
grant execute on function public.claim_job_by_id(uuid, text, integer) to service_role;
