-- Job webhooks: when a job reaches delivered, failed or canceled, one outbox delivery per
-- subscribed endpoint is written by a trigger, in the same transaction as the state change.
-- The webhook-id is derived from the job and its final state, so a job retried, resumed after a
-- crash or completed twice by racing workers still produces one webhook-id.

create function public.job_state_webhook() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if new.state in ('delivered', 'failed', 'canceled') and new.state is distinct from old.state then
    perform public.enqueue_webhook(
      new.user_id,
      'job.' || new.state::text,
      jsonb_build_object(
        'job_id', new.id,
        'project_id', new.project_id,
        'state', new.state,
        'error', new.error,
        'attempts', new.attempts,
        'finished_at', new.finished_at
      ),
      'msg_job_' || replace(new.id::text, '-', '') || '_' || new.state::text
    );
  end if;
  return null;
end
$$;

revoke all on function public.job_state_webhook() from public, anon, authenticated;

create trigger jobs_state_webhook
  after update of state on public.jobs
  for each row
  execute function public.job_state_webhook();
