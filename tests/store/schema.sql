CREATE SCHEMA auth;

CREATE SCHEMA public;

COMMENT ON SCHEMA public IS 'standard public schema';

CREATE SCHEMA reelforge;

CREATE TYPE public.hold_status AS ENUM (
    'held',
    'settled',
    'released'
);

CREATE TYPE public.job_state AS ENUM (
    'queued',
    'planning',
    'generating',
    'composing',
    'qc',
    'awaiting_review',
    'delivered',
    'failed',
    'canceled'
);

CREATE FUNCTION auth.jwt() RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

CREATE FUNCTION auth.role() RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

CREATE FUNCTION auth.uid() RETURNS uuid
    LANGUAGE sql STABLE
    SET search_path TO ''
    AS $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

CREATE TABLE public.jobs (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    project_id uuid,
    kind text DEFAULT 'render'::text NOT NULL,
    payload jsonb DEFAULT '{}'::jsonb NOT NULL,
    state public.job_state DEFAULT 'queued'::public.job_state NOT NULL,
    progress real DEFAULT 0 NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    max_attempts integer DEFAULT 3 NOT NULL,
    run_after timestamp with time zone DEFAULT now() NOT NULL,
    lease_owner text,
    lease_expires_at timestamp with time zone,
    error text,
    checkpoints jsonb DEFAULT '{}'::jsonb NOT NULL,
    dedupe_key text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    finished_at timestamp with time zone,
    CONSTRAINT jobs_attempts_check CHECK ((attempts >= 0)),
    CONSTRAINT jobs_dedupe_key_check CHECK (((length(dedupe_key) >= 1) AND (length(dedupe_key) <= 200))),
    CONSTRAINT jobs_finished_state CHECK (((finished_at IS NOT NULL) = (state = ANY (ARRAY['delivered'::public.job_state, 'failed'::public.job_state, 'canceled'::public.job_state])))),
    CONSTRAINT jobs_kind_check CHECK (((length(kind) >= 1) AND (length(kind) <= 100))),
    CONSTRAINT jobs_lease_state CHECK ((((lease_owner IS NULL) = (lease_expires_at IS NULL)) AND ((lease_owner IS NOT NULL) = (state = ANY (ARRAY['planning'::public.job_state, 'generating'::public.job_state, 'composing'::public.job_state, 'qc'::public.job_state]))))),
    CONSTRAINT jobs_max_attempts_check CHECK (((max_attempts >= 1) AND (max_attempts <= 100))),
    CONSTRAINT jobs_progress_check CHECK (((progress >= (0)::double precision) AND (progress <= (1)::double precision)))
);

ALTER TABLE ONLY public.jobs FORCE ROW LEVEL SECURITY;

CREATE FUNCTION public.add_job_event(p_job public.jobs, p_kind text, p_message text DEFAULT NULL::text) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
  insert into public.job_events (job_id, user_id, kind, state, progress, message)
  values (p_job.id, p_job.user_id, p_kind, p_job.state, p_job.progress, p_message);
$$;

CREATE FUNCTION public.admit_user(p_user uuid, p_email text) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if p_user is null then
    return false;
  end if;
  if exists (select 1 from auth.users where id = p_user) then
    return true;
  end if;
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'supabase_admin') then
    return false;
  end if;
  insert into auth.users (id, email) values (p_user, left(p_email, 320))
  on conflict (id) do nothing;
  return true;
end
$$;

CREATE FUNCTION public.advance_job(p_job uuid, p_worker text, p_state public.job_state, p_checkpoint jsonb DEFAULT NULL::jsonb, p_progress real DEFAULT NULL::real) RETURNS public.jobs
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION public.are_webhook_events(p_events text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $_$
  select coalesce(cardinality(p_events) <= 50, false)
    and not exists (
      select 1 from unnest(p_events) as e
      where e is null or length(e) > 100 or e !~ '^[a-z0-9][a-z0-9_.\-]*$'
    )
$_$;

CREATE FUNCTION public.cancel_job(p_job uuid) RETURNS public.jobs
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION public.check_claim_arguments(p_worker text, p_lease_seconds integer) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO ''
    AS $$
begin
  if p_worker is null or length(p_worker) not between 1 and 200 then
    raise exception 'worker name must be 1 to 200 characters' using errcode = '22023';
  end if;
  if p_lease_seconds is null or p_lease_seconds not between 1 and 86400 then
    raise exception 'lease must be between 1 and 86400 seconds' using errcode = '22023';
  end if;
end
$$;

CREATE FUNCTION public.check_credit_amount(p_amount bigint, p_name text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO ''
    AS $$
begin
  if p_amount is null or p_amount <= 0 or p_amount > 1000000000 then
    raise exception '% must be between 1 and 1000000000, got %', p_name, coalesce(p_amount::text, 'null')
      using errcode = '22023';
  end if;
end
$$;

CREATE FUNCTION public.claim_job(p_worker text, p_lease_seconds integer DEFAULT 60) RETURNS SETOF public.jobs
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION public.claim_job_by_id(p_job uuid, p_worker text, p_lease_seconds integer DEFAULT 60) RETURNS SETOF public.jobs
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

CREATE TABLE public.webhook_deliveries (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    endpoint_id uuid NOT NULL,
    event_type text NOT NULL,
    payload jsonb NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone DEFAULT now() NOT NULL,
    last_status_code integer,
    last_error text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    delivered_at timestamp with time zone,
    webhook_id text DEFAULT ('msg_'::text || replace((gen_random_uuid())::text, '-'::text, ''::text)) NOT NULL,
    lease_owner text,
    CONSTRAINT webhook_deliveries_attempts_check CHECK ((attempts >= 0)),
    CONSTRAINT webhook_deliveries_lease_owner_check CHECK (((length(lease_owner) >= 1) AND (length(lease_owner) <= 200))),
    CONSTRAINT webhook_deliveries_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'delivered'::text, 'failed'::text, 'dead'::text]))),
    CONSTRAINT webhook_deliveries_webhook_id_check CHECK ((webhook_id ~ '^[A-Za-z0-9_.:-]{1,200}$'::text))
);

ALTER TABLE ONLY public.webhook_deliveries FORCE ROW LEVEL SECURITY;

CREATE FUNCTION public.claim_webhook_deliveries(p_worker text, p_now timestamp with time zone DEFAULT now(), p_lease_seconds integer DEFAULT 60, p_limit integer DEFAULT 1, p_per_endpoint integer DEFAULT 1, p_per_tenant integer DEFAULT 4) RETURNS SETOF public.webhook_deliveries
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_now timestamptz := coalesce(p_now, now());
  v_candidate record;
  v_delivery public.webhook_deliveries;
  v_claimed integer := 0;
  v_endpoint_busy bigint;
  v_tenant_busy bigint;
  v_full_tenants uuid[] := '{}';
  v_full_endpoints uuid[] := '{}';
begin
  if p_worker is null or length(p_worker) not between 1 and 200 then
    raise exception 'worker name must be 1 to 200 characters' using errcode = '22023';
  end if;
  if p_lease_seconds is null or p_lease_seconds not between 1 and 3600 then
    raise exception 'lease must be between 1 and 3600 seconds' using errcode = '22023';
  end if;
  if p_limit is null or p_limit not between 1 and 1000
     or p_per_endpoint is null or p_per_endpoint not between 1 and 1000
     or p_per_tenant is null or p_per_tenant not between p_per_endpoint and 1000 then
    raise exception 'need 1 <= limit <= 1000 and 1 <= per endpoint <= per tenant <= 1000'
      using errcode = '22023';
  end if;
  -- The candidates, as this statement's snapshot sees them; each is checked again below.
  for v_candidate in
    with leased as (
      select l.user_id, l.endpoint_id from public.webhook_deliveries l
      where l.status = 'pending' and l.lease_owner is not null and l.next_attempt_at > v_now
    )
    select d.id, d.user_id, d.endpoint_id from public.webhook_deliveries d
      join public.webhook_endpoints e on e.id = d.endpoint_id and e.user_id = d.user_id
    where d.status = 'pending' and d.next_attempt_at <= v_now and e.enabled
      and d.endpoint_id not in (
        select endpoint_id from leased group by endpoint_id having count(*) >= p_per_endpoint)
      and d.user_id not in (
        select user_id from leased group by user_id having count(*) >= p_per_tenant)
    order by d.next_attempt_at, d.created_at
  loop
    continue when v_candidate.user_id = any (v_full_tenants)
      or v_candidate.endpoint_id = any (v_full_endpoints);
    if not pg_try_advisory_xact_lock(
      hashtextextended('reelforge:webhook_claim:' || v_candidate.user_id::text, 0)
    ) then
      v_full_tenants := v_full_tenants || v_candidate.user_id;  -- another claimer's turn
      continue;
    end if;
    select count(*) filter (where l.endpoint_id = v_candidate.endpoint_id), count(*)
      into v_endpoint_busy, v_tenant_busy
      from public.webhook_deliveries l
      where l.user_id = v_candidate.user_id and l.status = 'pending'
        and l.lease_owner is not null and l.next_attempt_at > v_now;
    if v_tenant_busy >= p_per_tenant then
      v_full_tenants := v_full_tenants || v_candidate.user_id;
      continue;
    end if;
    if v_endpoint_busy >= p_per_endpoint then
      v_full_endpoints := v_full_endpoints || v_candidate.endpoint_id;
      continue;
    end if;
    select d.* into v_delivery from public.webhook_deliveries d
      join public.webhook_endpoints e on e.id = d.endpoint_id and e.user_id = d.user_id
      where d.id = v_candidate.id and d.status = 'pending' and d.next_attempt_at <= v_now
        and e.enabled
      for update of d skip locked;
    continue when not found;
    update public.webhook_deliveries
      set attempts = attempts + 1, lease_owner = p_worker,
          next_attempt_at = v_now + make_interval(secs => p_lease_seconds)
      where id = v_delivery.id returning * into v_delivery;
    return next v_delivery;
    v_claimed := v_claimed + 1;
    exit when v_claimed >= p_limit;
  end loop;
end
$$;

CREATE FUNCTION public.claim_webhook_delivery(p_worker text, p_now timestamp with time zone DEFAULT now(), p_lease_seconds integer DEFAULT 60) RETURNS SETOF public.webhook_deliveries
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select * from public.claim_webhook_deliveries(p_worker, p_now, p_lease_seconds, 1);
$$;

CREATE FUNCTION public.close_credit_account() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_closed uuid := gen_random_uuid();
  v_balance bigint := old.balance;
  v_hold public.credit_holds;
begin
  if not public.user_is_gone(old.user_id) then
    raise exception 'the credit account of user % closes only when the user is deleted',
      old.user_id using errcode = '42501';
  end if;
  -- The ledger first: its key to the holds includes the user id that is about to go.
  update public.credit_ledger set user_id = null, idempotency_key = null, closed_account = v_closed
    where user_id = old.user_id;
  for v_hold in
    update public.credit_holds
      set status = 'released', resolved_at = now(), user_id = null, job_id = null,
          idempotency_key = null, closed_account = v_closed
      where user_id = old.user_id and status = 'held'
      returning *
  loop
    v_balance := v_balance + v_hold.amount;
    insert into public.credit_ledger (closed_account, delta, balance_after, reason, hold_id)
      values (v_closed, v_hold.amount, v_balance, 'hold released: account closed', v_hold.id);
  end loop;
  update public.credit_holds
    set user_id = null, job_id = null, idempotency_key = null, closed_account = v_closed
    where user_id = old.user_id;
  if v_balance > 0 then
    insert into public.credit_ledger (closed_account, delta, balance_after, reason)
      values (v_closed, -v_balance, 0, 'account closed');
  end if;
  return old;
end
$$;

CREATE FUNCTION public.complete_job(p_job uuid, p_worker text, p_state public.job_state DEFAULT 'delivered'::public.job_state) RETURNS public.jobs
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION public.credit_ledger_guard() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if tg_op = 'UPDATE' and old.user_id is not null and new.user_id is null
     and new.closed_account is not null and new.idempotency_key is null
     and (new.id, new.delta, new.balance_after, new.reason, new.hold_id, new.created_at)
         is not distinct from
         (old.id, old.delta, old.balance_after, old.reason, old.hold_id, old.created_at)
     and public.user_is_gone(old.user_id) then
    return new;
  end if;
  raise exception '% is append-only', tg_table_name using errcode = '42501';
end
$$;

CREATE FUNCTION public.delete_job_provider_events() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  delete from public.provider_events where job_id = old.id;
  return old;
end
$$;

CREATE FUNCTION public.disable_webhook_endpoint(p_endpoint uuid, p_reason text, p_now timestamp with time zone) RETURNS void
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO ''
    AS $$
  update public.webhook_endpoints
    set enabled = false, disabled_reason = p_reason, disabled_at = p_now, updated_at = p_now
    where id = p_endpoint;
  update public.webhook_deliveries
    set status = 'dead', lease_owner = null, last_error = 'endpoint disabled: ' || p_reason
    where endpoint_id = p_endpoint and status = 'pending';
$$;

CREATE FUNCTION public.enqueue_job(p_user uuid, p_kind text, p_payload jsonb DEFAULT '{}'::jsonb, p_project uuid DEFAULT NULL::uuid, p_dedupe_key text DEFAULT NULL::text, p_max_attempts integer DEFAULT 3) RETURNS public.jobs
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION public.enqueue_webhook(p_user uuid, p_event_type text, p_payload jsonb, p_webhook_id text DEFAULT NULL::text) RETURNS SETOF public.webhook_deliveries
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $_$
declare
  v_webhook_id text := coalesce(p_webhook_id, 'msg_' || replace(gen_random_uuid()::text, '-', ''));
begin
  if p_user is null or not exists (select 1 from auth.users where id = p_user) then
    raise exception 'unknown user %', coalesce(p_user::text, 'null') using errcode = 'RF002';
  end if;
  if p_event_type is null or p_event_type !~ '^[a-z0-9_]+(\.[a-z0-9_]+)*$'
     or length(p_event_type) > 100 then
    raise exception 'event type must be dotted lower-case words, not %',
      coalesce(p_event_type, 'null') using errcode = '22023';
  end if;
  if p_payload is null or pg_column_size(p_payload) > 262144 then
    raise exception 'payload must be JSON of at most 256 KiB' using errcode = '22023';
  end if;
  return query
    insert into public.webhook_deliveries (user_id, endpoint_id, event_type, payload, webhook_id)
    select e.user_id, e.id, p_event_type, p_payload, v_webhook_id
      from public.webhook_endpoints e
      where e.user_id = p_user and e.enabled
        and (cardinality(e.events) = 0 or p_event_type = any (e.events))
    on conflict (endpoint_id, webhook_id) do nothing
    returning *;
end
$_$;

CREATE FUNCTION public.fail_job(p_job uuid, p_worker text, p_error text, p_retry boolean DEFAULT true, p_retry_delay_seconds integer DEFAULT 0) RETURNS public.jobs
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION public.forbid_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO ''
    AS $$
begin
  raise exception '% is append-only', tg_table_name using errcode = '42501';
end
$$;

CREATE TABLE public.credit_ledger (
    id bigint NOT NULL,
    user_id uuid,
    delta bigint NOT NULL,
    balance_after bigint NOT NULL,
    reason text NOT NULL,
    hold_id uuid,
    idempotency_key text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    closed_account uuid,
    CONSTRAINT credit_ledger_balance_after_check CHECK ((balance_after >= 0)),
    CONSTRAINT credit_ledger_delta_check CHECK ((delta <> 0)),
    CONSTRAINT credit_ledger_idempotency_key_check CHECK (((length(idempotency_key) >= 1) AND (length(idempotency_key) <= 200))),
    CONSTRAINT credit_ledger_owner CHECK (((user_id IS NULL) = (closed_account IS NOT NULL))),
    CONSTRAINT credit_ledger_reason_check CHECK (((length(reason) >= 1) AND (length(reason) <= 200)))
);

ALTER TABLE ONLY public.credit_ledger FORCE ROW LEVEL SECURITY;

CREATE FUNCTION public.grant_credits(p_user uuid, p_amount bigint, p_reason text, p_key text, OUT entry public.credit_ledger, OUT replayed boolean) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  perform public.check_credit_amount(p_amount, 'amount');
  if p_key is null or length(p_key) not between 1 and 194 then
    raise exception 'grant key must be 1 to 194 characters' using errcode = '22023';
  end if;
  -- The account lock orders concurrent grants: the second sees the first's entry.
  perform public.lock_credit_account(p_user);
  select * into entry from public.credit_ledger l
    where l.user_id = p_user and l.idempotency_key = 'grant:' || p_key;
  replayed := found;
  if not replayed then
    entry := public.safe_adjust_credits(p_user, p_amount, p_reason, 'grant:' || p_key);
  end if;
end
$$;

CREATE FUNCTION public.grant_starting_credits(p_user uuid) RETURNS public.credit_ledger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_amount bigint;
begin
  select c.starting_grant into v_amount from public.app_config c where c.id;
  if coalesce(v_amount, 0) = 0 then
    return null;
  end if;
  return public.safe_adjust_credits(p_user, v_amount, 'starting grant', 'starting-grant');
end
$$;

CREATE FUNCTION public.heartbeat_job(p_job uuid, p_worker text, p_lease_seconds integer DEFAULT 60, p_progress real DEFAULT NULL::real) RETURNS public.jobs
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

CREATE TABLE public.credit_holds (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid,
    job_id uuid,
    amount bigint NOT NULL,
    status public.hold_status DEFAULT 'held'::public.hold_status NOT NULL,
    settled_amount bigint,
    idempotency_key text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    resolved_at timestamp with time zone,
    closed_account uuid,
    CONSTRAINT credit_holds_amount_check CHECK ((amount > 0)),
    CONSTRAINT credit_holds_check CHECK (((settled_amount >= 0) AND (settled_amount <= amount))),
    CONSTRAINT credit_holds_check1 CHECK (((status = 'held'::public.hold_status) = (resolved_at IS NULL))),
    CONSTRAINT credit_holds_check2 CHECK (((status = 'settled'::public.hold_status) = (settled_amount IS NOT NULL))),
    CONSTRAINT credit_holds_idempotency_key_check CHECK (((length(idempotency_key) >= 1) AND (length(idempotency_key) <= 200))),
    CONSTRAINT credit_holds_owner CHECK ((((user_id IS NULL) = (closed_account IS NOT NULL)) AND ((user_id IS NOT NULL) OR (status <> 'held'::public.hold_status))))
);

ALTER TABLE ONLY public.credit_holds FORCE ROW LEVEL SECURITY;

CREATE FUNCTION public.hold_credits(p_user uuid, p_amount bigint, p_job uuid DEFAULT NULL::uuid, p_idempotency_key text DEFAULT NULL::text) RETURNS public.credit_holds
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_account public.credit_accounts;
  v_hold public.credit_holds;
begin
  perform public.check_credit_amount(p_amount, 'amount');
  v_account := public.lock_credit_account(p_user);
  if p_idempotency_key is not null then
    select * into v_hold from public.credit_holds
      where user_id = p_user and idempotency_key = p_idempotency_key;
    if found then
      return v_hold;
    end if;
  end if;
  if p_job is not null and not exists (
    select 1 from public.jobs where id = p_job and user_id = p_user
  ) then
    raise exception 'unknown job % for user %', p_job, p_user using errcode = '22023';
  end if;
  if v_account.balance < p_amount then
    raise exception 'insufficient credits: balance %, needed %', v_account.balance, p_amount
      using errcode = 'RF001';
  end if;
  update public.credit_accounts set balance = balance - p_amount, updated_at = now()
    where user_id = p_user returning * into v_account;
  insert into public.credit_holds (user_id, job_id, amount, idempotency_key)
    values (p_user, p_job, p_amount, p_idempotency_key)
    returning * into v_hold;
  insert into public.credit_ledger (user_id, delta, balance_after, reason, hold_id)
    values (p_user, -p_amount, v_account.balance, 'hold', v_hold.id);
  return v_hold;
end
$$;

CREATE FUNCTION public.is_webhook_secret(p_secret text) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $_$
  select coalesce(
    p_secret ~ '^whsec_([A-Za-z0-9+/]{4})+$|^whsec_([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$'
    and (length(p_secret) - 6) / 4 * 3 - (length(p_secret) - length(rtrim(p_secret, '=')))
        between 24 and 64,
    false)
$_$;

CREATE FUNCTION public.is_webhook_url(p_url text) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    SET search_path TO ''
    AS $_$
  select coalesce(
    length(p_url) <= 2048
    and p_url ~* '^(https://[^/?#@[:space:][:cntrl:]]+|http://(localhost|127\.0\.0\.1)(:[0-9]{1,5})?)([/?#][^[:space:][:cntrl:]]*)?$',
    false)
$_$;

CREATE FUNCTION public.job_events_guard() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if tg_op = 'DELETE' and public.user_is_gone(old.user_id) then
    return old;
  end if;
  raise exception '% is append-only', tg_table_name using errcode = '42501';
end
$$;

CREATE FUNCTION public.job_state_webhook() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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
        'finished_at', new.finished_at,
        'job_url', '/v1/jobs/' || new.id::text,
        'outputs', case when new.state = 'delivered' then coalesce(
          (select jsonb_agg(jsonb_build_object(
                    'format', r.format, 'width', r.width, 'height', r.height,
                    'duration_s', r.duration_s, 'key', r.path) order by r.format)
             from public.renders r where r.job_id = new.id),
          '[]'::jsonb) else '[]'::jsonb end
      ),
      'msg_job_' || replace(new.id::text, '-', '') || '_' || new.state::text
    );
  end if;
  return null;
end
$$;

CREATE TABLE public.credit_accounts (
    user_id uuid NOT NULL,
    balance bigint DEFAULT 0 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT credit_accounts_balance_check CHECK ((balance >= 0))
);

ALTER TABLE ONLY public.credit_accounts FORCE ROW LEVEL SECURITY;

CREATE FUNCTION public.lock_credit_account(p_user uuid) RETURNS public.credit_accounts
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_account public.credit_accounts;
begin
  if p_user is null then
    raise exception 'user id is required' using errcode = '22023';
  end if;
  select * into v_account from public.credit_accounts where user_id = p_user for update;
  if found then
    return v_account;
  end if;
  if not exists (select 1 from auth.users where id = p_user) then
    raise exception 'unknown user %', p_user using errcode = 'RF002';
  end if;
  insert into public.credit_accounts (user_id) values (p_user) on conflict (user_id) do nothing;
  select * into strict v_account from public.credit_accounts where user_id = p_user for update;
  return v_account;
end
$$;

CREATE FUNCTION public.lock_credit_hold(p_hold uuid) RETURNS public.credit_holds
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_hold public.credit_holds;
begin
  if p_hold is null then
    raise exception 'hold id is required' using errcode = '22023';
  end if;
  -- Account first, as hold_credits does, so the two never deadlock.
  perform 1 from public.credit_accounts a
    where a.user_id = (select h.user_id from public.credit_holds h where h.id = p_hold)
    for update;
  select * into v_hold from public.credit_holds where id = p_hold for update;
  if not found then
    raise exception 'unknown hold %', p_hold using errcode = 'RF003';
  end if;
  return v_hold;
end
$$;

CREATE FUNCTION public.lock_leased_job(p_job uuid, p_worker text) RETURNS public.jobs
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION public.quarantine_webhook_delivery(p_delivery uuid, p_worker text, p_reason text, p_now timestamp with time zone DEFAULT now()) RETURNS public.webhook_deliveries
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_delivery public.webhook_deliveries;
begin
  if p_reason is null or length(p_reason) = 0 then
    raise exception 'a quarantine needs a reason' using errcode = '22023';
  end if;
  -- Endpoint before delivery, the order record_webhook_attempt locks them in.
  perform 1 from public.webhook_endpoints
    where id = (select endpoint_id from public.webhook_deliveries where id = p_delivery)
    for update;
  select * into v_delivery from public.webhook_deliveries where id = p_delivery for update;
  if not found then
    raise exception 'unknown webhook delivery %', coalesce(p_delivery::text, 'null')
      using errcode = 'RF006';
  end if;
  if v_delivery.status <> 'pending' or v_delivery.lease_owner is distinct from p_worker then
    raise exception 'worker % does not hold webhook delivery % (status %, owner %)',
      p_worker, p_delivery, v_delivery.status, coalesce(v_delivery.lease_owner, 'none')
      using errcode = 'RF007';
  end if;
  update public.webhook_deliveries
    set status = 'failed', lease_owner = null, last_status_code = null,
        last_error = left(p_reason, 1000)
    where id = p_delivery returning * into v_delivery;
  perform public.disable_webhook_endpoint(
    v_delivery.endpoint_id, left(p_reason, 500), coalesce(p_now, now()));
  return v_delivery;
end
$$;

CREATE TABLE public.billing_events (
    id bigint NOT NULL,
    provider text NOT NULL,
    event_id text NOT NULL,
    event_type text NOT NULL,
    livemode boolean DEFAULT false NOT NULL,
    checkout_session text,
    client_reference_id text,
    credits bigint,
    amount_total bigint,
    currency text,
    outcome text NOT NULL,
    detail text,
    ledger_id bigint,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT billing_events_checkout_session_check CHECK (((length(checkout_session) >= 1) AND (length(checkout_session) <= 184))),
    CONSTRAINT billing_events_client_reference_id_check CHECK (((length(client_reference_id) >= 1) AND (length(client_reference_id) <= 255))),
    CONSTRAINT billing_events_credits_check CHECK (((credits >= 1) AND (credits <= 1000000000))),
    CONSTRAINT billing_events_currency_check CHECK ((currency ~ '^[a-z]{3}$'::text)),
    CONSTRAINT billing_events_detail_check CHECK (((length(detail) >= 1) AND (length(detail) <= 500))),
    CONSTRAINT billing_events_event_id_check CHECK (((length(event_id) >= 1) AND (length(event_id) <= 255))),
    CONSTRAINT billing_events_event_type_check CHECK (((length(event_type) >= 1) AND (length(event_type) <= 255))),
    CONSTRAINT billing_events_outcome_check CHECK ((outcome = ANY (ARRAY['credited'::text, 'already_credited'::text, 'unknown_user'::text, 'not_paid'::text, 'invalid'::text, 'ignored'::text]))),
    CONSTRAINT billing_events_provider_check CHECK ((provider = 'stripe'::text))
);

ALTER TABLE ONLY public.billing_events FORCE ROW LEVEL SECURITY;

CREATE FUNCTION public.record_billing_event(p_provider text, p_event_id text, p_event_type text, p_livemode boolean, p_session text, p_client_reference text, p_user uuid, p_credits bigint, p_amount_total bigint, p_currency text, p_outcome text, p_detail text, OUT event public.billing_events, OUT duplicate boolean) RETURNS record
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_entry public.credit_ledger;
  v_key text := p_provider || ':checkout:' || p_session;
begin
  if p_outcome is null and (p_session is null or p_credits is null) then
    raise exception 'a purchase needs a checkout session and credits' using errcode = '22023';
  end if;
  insert into public.billing_events (provider, event_id, event_type, livemode, checkout_session,
      client_reference_id, credits, amount_total, currency, outcome, detail)
    values (p_provider, p_event_id, p_event_type, coalesce(p_livemode, false), p_session,
      p_client_reference, p_credits, p_amount_total, p_currency,
      coalesce(p_outcome, 'credited'), p_detail)
    on conflict (provider, event_id) do nothing
    returning * into event;
  duplicate := not found;
  if duplicate then
    select * into strict event from public.billing_events b
      where b.provider = p_provider and b.event_id = p_event_id;
    return;
  end if;
  if p_outcome is not null then
    return;
  end if;
  if p_user is null or not exists (select 1 from auth.users u where u.id = p_user) then
    update public.billing_events set outcome = 'unknown_user',
        detail = 'no user ' || coalesce(p_client_reference, '(no client_reference_id)')
      where id = event.id returning * into event;
    return;
  end if;
  perform public.lock_credit_account(p_user);
  select * into v_entry from public.credit_ledger l
    where l.user_id = p_user and l.idempotency_key = v_key;
  if found then
    update public.billing_events set outcome = 'already_credited', ledger_id = v_entry.id
      where id = event.id returning * into event;
    return;
  end if;
  v_entry := public.safe_adjust_credits(p_user, p_credits, 'purchase', v_key);
  update public.billing_events set ledger_id = v_entry.id
    where id = event.id returning * into event;
end
$$;

CREATE FUNCTION public.record_webhook_attempt(p_delivery uuid, p_worker text, p_status_code integer, p_error text, p_next_attempt_at timestamp with time zone, p_now timestamp with time zone DEFAULT now(), p_disable_after integer DEFAULT 5) RETURNS public.webhook_deliveries
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_delivery public.webhook_deliveries;
  v_endpoint public.webhook_endpoints;
  v_now timestamptz := coalesce(p_now, now());
begin
  if p_disable_after is null or p_disable_after < 1 then
    raise exception 'disable_after must be at least 1' using errcode = '22023';
  end if;
  -- Lock the endpoint before the delivery, the order disable_webhook_endpoint needs too.
  select e.* into v_endpoint from public.webhook_endpoints e
    where e.id = (select endpoint_id from public.webhook_deliveries where id = p_delivery)
    for update;
  select * into v_delivery from public.webhook_deliveries where id = p_delivery for update;
  if not found then
    raise exception 'unknown webhook delivery %', coalesce(p_delivery::text, 'null')
      using errcode = 'RF006';
  end if;
  if v_delivery.status <> 'pending' or v_delivery.lease_owner is distinct from p_worker then
    raise exception 'worker % does not hold webhook delivery % (status %, owner %)',
      p_worker, p_delivery, v_delivery.status, coalesce(v_delivery.lease_owner, 'none')
      using errcode = 'RF007';
  end if;
  if p_status_code between 200 and 299 then
    update public.webhook_deliveries
      set status = 'delivered', delivered_at = v_now, lease_owner = null,
          last_status_code = p_status_code, last_error = null
      where id = p_delivery returning * into v_delivery;
    update public.webhook_endpoints set failed_deliveries_in_row = 0, updated_at = v_now
      where id = v_endpoint.id and failed_deliveries_in_row <> 0;
    return v_delivery;
  end if;
  if p_error is null or length(p_error) = 0 then
    raise exception 'a failed attempt needs an error' using errcode = '22023';
  end if;
  if p_status_code = 410 or p_next_attempt_at is null then
    update public.webhook_deliveries
      set status = 'failed', lease_owner = null, last_status_code = p_status_code,
          last_error = left(p_error, 1000)
      where id = p_delivery returning * into v_delivery;
    if p_status_code = 410 then
      perform public.disable_webhook_endpoint(v_endpoint.id, 'the endpoint answered 410 Gone', v_now);
      return v_delivery;
    end if;
    update public.webhook_endpoints
      set failed_deliveries_in_row = failed_deliveries_in_row + 1, updated_at = v_now
      where id = v_endpoint.id returning * into v_endpoint;
    if v_endpoint.enabled and v_endpoint.failed_deliveries_in_row >= p_disable_after then
      perform public.disable_webhook_endpoint(
        v_endpoint.id,
        format('%s deliveries in a row failed after %s attempts each; last error: %s',
               v_endpoint.failed_deliveries_in_row, v_delivery.attempts, left(p_error, 200)),
        v_now);
    end if;
    return v_delivery;
  end if;
  update public.webhook_deliveries
    set next_attempt_at = p_next_attempt_at, lease_owner = null,
        last_status_code = p_status_code, last_error = left(p_error, 1000)
    where id = p_delivery returning * into v_delivery;
  return v_delivery;
end
$$;

CREATE FUNCTION public.release_hold(p_hold uuid) RETURNS public.credit_holds
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_hold public.credit_holds;
  v_balance bigint;
begin
  v_hold := public.lock_credit_hold(p_hold);
  if v_hold.status = 'released' then
    return v_hold;
  end if;
  if v_hold.status <> 'held' then
    raise exception 'hold % is already %', p_hold, v_hold.status using errcode = 'RF004';
  end if;
  update public.credit_holds set status = 'released', resolved_at = now()
    where id = p_hold returning * into v_hold;
  update public.credit_accounts set balance = balance + v_hold.amount, updated_at = now()
    where user_id = v_hold.user_id returning balance into v_balance;
  insert into public.credit_ledger (user_id, delta, balance_after, reason, hold_id)
    values (v_hold.user_id, v_hold.amount, v_balance, 'hold released', p_hold);
  return v_hold;
end
$$;

CREATE FUNCTION public.safe_adjust_credits(p_user uuid, p_amount bigint, p_reason text, p_idempotency_key text) RETURNS public.credit_ledger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_account public.credit_accounts;
  v_entry public.credit_ledger;
begin
  perform public.check_credit_amount(abs(p_amount), 'amount');
  if p_reason is null or length(p_reason) not between 1 and 200 then
    raise exception 'reason must be 1 to 200 characters' using errcode = '22023';
  end if;
  if p_idempotency_key is null or length(p_idempotency_key) not between 1 and 200 then
    raise exception 'idempotency key must be 1 to 200 characters' using errcode = '22023';
  end if;
  v_account := public.lock_credit_account(p_user);
  select * into v_entry from public.credit_ledger
    where user_id = p_user and idempotency_key = p_idempotency_key;
  if found then
    return v_entry;
  end if;
  if v_account.balance + p_amount < 0 then
    raise exception 'insufficient credits: balance %, adjustment %', v_account.balance, p_amount
      using errcode = 'RF001';
  end if;
  update public.credit_accounts set balance = balance + p_amount, updated_at = now()
    where user_id = p_user returning * into v_account;
  insert into public.credit_ledger (user_id, delta, balance_after, reason, idempotency_key)
    values (p_user, p_amount, v_account.balance, p_reason, p_idempotency_key)
    returning * into v_entry;
  return v_entry;
end
$$;

CREATE FUNCTION public.settle_hold(p_hold uuid, p_actual bigint) RETURNS public.credit_holds
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
declare
  v_hold public.credit_holds;
  v_balance bigint;
begin
  if p_actual is null or p_actual < 0 then
    raise exception 'actual cost must be 0 or more, got %', coalesce(p_actual::text, 'null')
      using errcode = '22023';
  end if;
  v_hold := public.lock_credit_hold(p_hold);
  if v_hold.status = 'settled' and v_hold.settled_amount = p_actual then
    return v_hold;
  end if;
  if v_hold.status <> 'held' then
    raise exception 'hold % is already %', p_hold, v_hold.status using errcode = 'RF004';
  end if;
  if p_actual > v_hold.amount then
    raise exception 'actual cost % exceeds hold % of %', p_actual, p_hold, v_hold.amount
      using errcode = 'RF005';
  end if;
  update public.credit_holds
    set status = 'settled', settled_amount = p_actual, resolved_at = now()
    where id = p_hold returning * into v_hold;
  if v_hold.amount > p_actual then
    update public.credit_accounts set balance = balance + (v_hold.amount - p_actual), updated_at = now()
      where user_id = v_hold.user_id returning balance into v_balance;
    insert into public.credit_ledger (user_id, delta, balance_after, reason, hold_id)
      values (v_hold.user_id, v_hold.amount - p_actual, v_balance, 'hold remainder', p_hold);
  end if;
  return v_hold;
end
$$;

CREATE FUNCTION public.starting_grant_trigger() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  if coalesce((to_jsonb(new) ->> 'is_anonymous')::boolean, false) then
    return null;
  end if;
  perform public.grant_starting_credits(new.id);
  return null;
end
$$;

CREATE FUNCTION public.take_job(p_job public.jobs, p_worker text, p_lease_seconds integer) RETURNS public.jobs
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
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

CREATE FUNCTION public.user_is_gone(p_user uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO ''
    AS $$
  select p_user is not null and not exists (select 1 from auth.users where id = p_user);
$$;

CREATE TABLE auth.users (
    id uuid NOT NULL,
    email text
);

CREATE TABLE public.ad_performance (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid DEFAULT auth.uid() NOT NULL,
    creative_id text NOT NULL,
    source text NOT NULL,
    period_start date NOT NULL,
    period_end date NOT NULL,
    placement text DEFAULT ''::text NOT NULL,
    ad_key text DEFAULT ''::text NOT NULL,
    ad_name text DEFAULT ''::text NOT NULL,
    currency text NOT NULL,
    impressions bigint NOT NULL,
    clicks bigint NOT NULL,
    spend numeric NOT NULL,
    purchases bigint DEFAULT 0 NOT NULL,
    revenue numeric DEFAULT 0 NOT NULL,
    video_3s_plays bigint,
    thruplays bigint,
    import_id uuid,
    imported_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT ad_performance_ad_key_check CHECK ((length(ad_key) <= 1000)),
    CONSTRAINT ad_performance_ad_name_check CHECK ((length(ad_name) <= 400)),
    CONSTRAINT ad_performance_check CHECK ((period_end >= period_start)),
    CONSTRAINT ad_performance_clicks_check CHECK ((clicks >= 0)),
    CONSTRAINT ad_performance_currency_check CHECK ((currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT ad_performance_impressions_check CHECK ((impressions >= 0)),
    CONSTRAINT ad_performance_placement_check CHECK ((length(placement) <= 100)),
    CONSTRAINT ad_performance_purchases_check CHECK ((purchases >= 0)),
    CONSTRAINT ad_performance_revenue_check CHECK ((revenue >= (0)::numeric)),
    CONSTRAINT ad_performance_source_check CHECK ((source = ANY (ARRAY['meta_csv'::text, 'google_csv'::text, 'meta_api'::text, 'google_api'::text]))),
    CONSTRAINT ad_performance_spend_check CHECK ((spend >= (0)::numeric)),
    CONSTRAINT ad_performance_thruplays_check CHECK ((thruplays >= 0)),
    CONSTRAINT ad_performance_video_3s_plays_check CHECK ((video_3s_plays >= 0))
);

ALTER TABLE ONLY public.ad_performance FORCE ROW LEVEL SECURITY;

CREATE TABLE public.analytics_imports (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid DEFAULT auth.uid() NOT NULL,
    source text NOT NULL,
    file_name text DEFAULT ''::text NOT NULL,
    file_hash text NOT NULL,
    rows_read integer NOT NULL,
    imported integer NOT NULL,
    updated integer NOT NULL,
    unchanged integer NOT NULL,
    unmatched integer NOT NULL,
    unmatched_rows jsonb DEFAULT '[]'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT analytics_imports_file_hash_check CHECK ((file_hash ~ '^[0-9a-f]{64}$'::text)),
    CONSTRAINT analytics_imports_file_name_check CHECK ((length(file_name) <= 300)),
    CONSTRAINT analytics_imports_imported_check CHECK ((imported >= 0)),
    CONSTRAINT analytics_imports_rows_read_check CHECK ((rows_read >= 0)),
    CONSTRAINT analytics_imports_source_check CHECK ((source = ANY (ARRAY['meta_csv'::text, 'google_csv'::text, 'meta_api'::text, 'google_api'::text]))),
    CONSTRAINT analytics_imports_unchanged_check CHECK ((unchanged >= 0)),
    CONSTRAINT analytics_imports_unmatched_check CHECK ((unmatched >= 0)),
    CONSTRAINT analytics_imports_updated_check CHECK ((updated >= 0))
);

ALTER TABLE ONLY public.analytics_imports FORCE ROW LEVEL SECURITY;

CREATE TABLE public.api_keys (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    name text NOT NULL,
    prefix text NOT NULL,
    secret_hash text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone,
    CONSTRAINT api_keys_name_check CHECK (((length(name) >= 1) AND (length(name) <= 100))),
    CONSTRAINT api_keys_prefix_check CHECK ((prefix ~ '^rf_live_[A-Za-z0-9_-]{4}$'::text)),
    CONSTRAINT api_keys_secret_hash_check CHECK ((secret_hash ~ '^[0-9a-f]{64}$'::text))
);

ALTER TABLE ONLY public.api_keys FORCE ROW LEVEL SECURITY;

CREATE TABLE public.app_config (
    id boolean DEFAULT true NOT NULL,
    starting_grant bigint DEFAULT 0 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT app_config_id_check CHECK (id),
    CONSTRAINT app_config_starting_grant_check CHECK (((starting_grant >= 0) AND (starting_grant <= 1000000000)))
);

ALTER TABLE ONLY public.app_config FORCE ROW LEVEL SECURITY;

CREATE TABLE public.assets (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    key text NOT NULL,
    kind text NOT NULL,
    provider text NOT NULL,
    model text DEFAULT ''::text NOT NULL,
    sku text,
    cost bigint DEFAULT 0 NOT NULL,
    storage_path text NOT NULL,
    bytes bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT assets_bytes_check CHECK ((bytes >= 0)),
    CONSTRAINT assets_cost_check CHECK ((cost >= 0)),
    CONSTRAINT assets_key_check CHECK (((length(key) >= 1) AND (length(key) <= 200))),
    CONSTRAINT assets_kind_check CHECK ((kind = ANY (ARRAY['image'::text, 'clip'::text, 'voice'::text, 'music'::text, 'caption'::text, 'stock'::text, 'other'::text])))
);

ALTER TABLE ONLY public.assets FORCE ROW LEVEL SECURITY;

CREATE SEQUENCE public.billing_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.billing_events_id_seq OWNED BY public.billing_events.id;

CREATE TABLE public.brand_kits (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid DEFAULT auth.uid() NOT NULL,
    name text NOT NULL,
    kit jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT brand_kits_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200)))
);

ALTER TABLE ONLY public.brand_kits FORCE ROW LEVEL SECURITY;

CREATE TABLE public.creatives (
    user_id uuid NOT NULL,
    creative_id text NOT NULL,
    job_id uuid,
    project_id uuid,
    sku text NOT NULL,
    product text NOT NULL,
    template text NOT NULL,
    duration_s double precision NOT NULL,
    duration_bucket text NOT NULL,
    palette_colour text NOT NULL,
    voice text NOT NULL,
    caption_style text NOT NULL,
    hook text NOT NULL,
    format text NOT NULL,
    script_option integer NOT NULL,
    ad_name text NOT NULL,
    landing_url text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT creatives_ad_name_check CHECK (((length(ad_name) >= 1) AND (length(ad_name) <= 400))),
    CONSTRAINT creatives_caption_style_check CHECK ((length(caption_style) <= 100)),
    CONSTRAINT creatives_check CHECK ((POSITION((creative_id) IN (ad_name)) > 0)),
    CONSTRAINT creatives_creative_id_check CHECK ((creative_id ~ '^rf-[a-z0-9]{4,64}$'::text)),
    CONSTRAINT creatives_duration_bucket_check CHECK (((length(duration_bucket) >= 1) AND (length(duration_bucket) <= 20))),
    CONSTRAINT creatives_duration_s_check CHECK ((duration_s > (0)::double precision)),
    CONSTRAINT creatives_format_check CHECK ((format ~ '^[0-9]+x[0-9]+$'::text)),
    CONSTRAINT creatives_hook_check CHECK ((length(hook) <= 500)),
    CONSTRAINT creatives_landing_url_check CHECK ((landing_url ~ '^https?://'::text)),
    CONSTRAINT creatives_palette_colour_check CHECK ((length(palette_colour) <= 100)),
    CONSTRAINT creatives_product_check CHECK (((length(product) >= 1) AND (length(product) <= 200))),
    CONSTRAINT creatives_script_option_check CHECK ((script_option >= 1)),
    CONSTRAINT creatives_sku_check CHECK (((length(sku) >= 1) AND (length(sku) <= 64))),
    CONSTRAINT creatives_template_check CHECK (((length(template) >= 1) AND (length(template) <= 100))),
    CONSTRAINT creatives_voice_check CHECK ((voice = ANY (ARRAY['on'::text, 'off'::text])))
);

ALTER TABLE ONLY public.creatives FORCE ROW LEVEL SECURITY;

CREATE SEQUENCE public.credit_ledger_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.credit_ledger_id_seq OWNED BY public.credit_ledger.id;

CREATE TABLE public.generation_claims (
    key text NOT NULL,
    owner text NOT NULL,
    state text DEFAULT 'pending'::text NOT NULL,
    lease_expires_at timestamp with time zone NOT NULL,
    attempts integer DEFAULT 1 NOT NULL,
    error text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT generation_claims_attempts_check CHECK ((attempts >= 1)),
    CONSTRAINT generation_claims_error_check CHECK ((length(error) <= 1000)),
    CONSTRAINT generation_claims_key_check CHECK ((key ~ '^[0-9a-f]{64}$'::text)),
    CONSTRAINT generation_claims_lease_check CHECK (((state <> 'pending'::text) OR ((lease_expires_at > updated_at) AND (lease_expires_at <= (updated_at + '01:00:00'::interval))))),
    CONSTRAINT generation_claims_owner_check CHECK (((length(owner) >= 1) AND (length(owner) <= 200))),
    CONSTRAINT generation_claims_state_check CHECK ((state = ANY (ARRAY['pending'::text, 'done'::text, 'failed'::text])))
);

ALTER TABLE ONLY public.generation_claims FORCE ROW LEVEL SECURITY;

CREATE TABLE public.idempotency_keys (
    user_id uuid NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    state text DEFAULT 'running'::text NOT NULL,
    response_status integer,
    response_body jsonb,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    locked_until timestamp with time zone,
    CONSTRAINT idempotency_keys_check CHECK (((state = 'done'::text) = (response_status IS NOT NULL))),
    CONSTRAINT idempotency_keys_key_check CHECK (((length(key) >= 1) AND (length(key) <= 255))),
    CONSTRAINT idempotency_keys_response_status_check CHECK (((response_status >= 100) AND (response_status <= 599))),
    CONSTRAINT idempotency_keys_state_check CHECK ((state = ANY (ARRAY['running'::text, 'done'::text])))
);

ALTER TABLE ONLY public.idempotency_keys FORCE ROW LEVEL SECURITY;

CREATE TABLE public.job_events (
    id bigint NOT NULL,
    job_id uuid NOT NULL,
    user_id uuid NOT NULL,
    kind text NOT NULL,
    state public.job_state NOT NULL,
    progress real,
    message text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT job_events_kind_check CHECK ((kind = ANY (ARRAY['state'::text, 'progress'::text, 'claimed'::text, 'heartbeat'::text, 'retry'::text, 'log'::text])))
);

ALTER TABLE ONLY public.job_events FORCE ROW LEVEL SECURITY;

CREATE SEQUENCE public.job_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.job_events_id_seq OWNED BY public.job_events.id;

CREATE TABLE public.renders (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    job_id uuid NOT NULL,
    format text NOT NULL,
    path text NOT NULL,
    width integer NOT NULL,
    height integer NOT NULL,
    duration_s double precision NOT NULL,
    loudness_lufs double precision,
    qc jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT renders_duration_s_check CHECK ((duration_s > (0)::double precision)),
    CONSTRAINT renders_format_check CHECK ((format ~ '^[0-9]+x[0-9]+$'::text)),
    CONSTRAINT renders_height_check CHECK ((height > 0)),
    CONSTRAINT renders_width_check CHECK ((width > 0))
);

ALTER TABLE ONLY public.renders FORCE ROW LEVEL SECURITY;

CREATE VIEW public.job_summaries WITH (security_invoker='true') AS
 SELECT id,
    user_id,
    project_id,
    kind,
    state,
    progress,
    attempts,
    error,
    created_at,
    updated_at,
    finished_at,
    ( SELECT count(*) AS count
           FROM public.renders r
          WHERE (r.job_id = j.id)) AS render_count
   FROM public.jobs j;

CREATE TABLE public.projects (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid DEFAULT auth.uid() NOT NULL,
    brand_kit_id uuid,
    name text NOT NULL,
    brief jsonb NOT NULL,
    script_options jsonb DEFAULT '[]'::jsonb NOT NULL,
    chosen_script integer,
    status text DEFAULT 'draft'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT projects_chosen_script_check CHECK ((chosen_script >= 0)),
    CONSTRAINT projects_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT projects_status_check CHECK ((status = ANY (ARRAY['draft'::text, 'scripted'::text, 'rendering'::text, 'delivered'::text, 'archived'::text])))
);

ALTER TABLE ONLY public.projects FORCE ROW LEVEL SECURITY;

CREATE TABLE public.provider_events (
    id bigint NOT NULL,
    provider text NOT NULL,
    event_id text NOT NULL,
    payload jsonb NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    processed_at timestamp with time zone,
    subject text,
    occurred_at timestamp with time zone,
    job_id uuid,
    CONSTRAINT provider_events_event_id_check CHECK (((length(event_id) >= 1) AND (length(event_id) <= 255))),
    CONSTRAINT provider_events_provider_check CHECK (((length(provider) >= 1) AND (length(provider) <= 100))),
    CONSTRAINT provider_events_subject_check CHECK (((length(subject) >= 1) AND (length(subject) <= 255)))
);

ALTER TABLE ONLY public.provider_events FORCE ROW LEVEL SECURITY;

CREATE SEQUENCE public.provider_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.provider_events_id_seq OWNED BY public.provider_events.id;

CREATE TABLE public.uploads (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    kind text NOT NULL,
    state text DEFAULT 'ready'::text NOT NULL,
    key text NOT NULL,
    sha256 text,
    size bigint,
    content_type text,
    original_name text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT uploads_content_type_check CHECK ((content_type ~ '^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$'::text)),
    CONSTRAINT uploads_key_check CHECK (((length(key) >= 1) AND (length(key) <= 512))),
    CONSTRAINT uploads_key_owner CHECK (starts_with(key, ((user_id)::text || '/'::text))),
    CONSTRAINT uploads_kind_check CHECK ((kind = ANY (ARRAY['photo'::text, 'logo'::text, 'font'::text, 'music'::text, 'voice_over'::text]))),
    CONSTRAINT uploads_original_name_check CHECK (((length(original_name) >= 1) AND (length(original_name) <= 255))),
    CONSTRAINT uploads_ready_complete CHECK (((state = 'ready'::text) = ((sha256 IS NOT NULL) AND (size IS NOT NULL) AND (content_type IS NOT NULL)))),
    CONSTRAINT uploads_sha256_check CHECK ((sha256 ~ '^[0-9a-f]{64}$'::text)),
    CONSTRAINT uploads_size_check CHECK ((size > 0)),
    CONSTRAINT uploads_state_check CHECK ((state = ANY (ARRAY['pending'::text, 'ready'::text])))
);

ALTER TABLE ONLY public.uploads FORCE ROW LEVEL SECURITY;

CREATE TABLE public.webhook_endpoints (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid DEFAULT auth.uid() NOT NULL,
    url text NOT NULL,
    secret text NOT NULL,
    events text[] DEFAULT '{}'::text[] NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    disabled_reason text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    previous_secret text,
    previous_secret_expires_at timestamp with time zone,
    disabled_at timestamp with time zone,
    failed_deliveries_in_row integer DEFAULT 0 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT webhook_endpoints_deliverable CHECK (((NOT enabled) OR (public.is_webhook_secret(secret) AND ((previous_secret IS NULL) OR public.is_webhook_secret(previous_secret)) AND public.is_webhook_url(url) AND public.are_webhook_events(events)))),
    CONSTRAINT webhook_endpoints_failed_deliveries_in_row_check CHECK ((failed_deliveries_in_row >= 0)),
    CONSTRAINT webhook_endpoints_previous_secret_check CHECK ((length(previous_secret) >= 24)),
    CONSTRAINT webhook_endpoints_secret_check CHECK ((length(secret) >= 24)),
    CONSTRAINT webhook_endpoints_url_check CHECK ((url ~* '^https?://'::text))
);

ALTER TABLE ONLY public.webhook_endpoints FORCE ROW LEVEL SECURITY;

CREATE TABLE reelforge.schema_migrations (
    version text NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE ONLY public.billing_events ALTER COLUMN id SET DEFAULT nextval('public.billing_events_id_seq'::regclass);

ALTER TABLE ONLY public.credit_ledger ALTER COLUMN id SET DEFAULT nextval('public.credit_ledger_id_seq'::regclass);

ALTER TABLE ONLY public.job_events ALTER COLUMN id SET DEFAULT nextval('public.job_events_id_seq'::regclass);

ALTER TABLE ONLY public.provider_events ALTER COLUMN id SET DEFAULT nextval('public.provider_events_id_seq'::regclass);

ALTER TABLE ONLY auth.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.ad_performance
    ADD CONSTRAINT ad_performance_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.ad_performance
    ADD CONSTRAINT ad_performance_user_id_source_creative_id_ad_key_period_sta_key UNIQUE (user_id, source, creative_id, ad_key, period_start, period_end, placement);

ALTER TABLE ONLY public.analytics_imports
    ADD CONSTRAINT analytics_imports_id_user_id_key UNIQUE (id, user_id);

ALTER TABLE ONLY public.analytics_imports
    ADD CONSTRAINT analytics_imports_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_id_user_id_key UNIQUE (id, user_id);

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_secret_hash_key UNIQUE (secret_hash);

ALTER TABLE ONLY public.app_config
    ADD CONSTRAINT app_config_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.assets
    ADD CONSTRAINT assets_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.assets
    ADD CONSTRAINT assets_user_id_key_key UNIQUE (user_id, key);

ALTER TABLE ONLY public.billing_events
    ADD CONSTRAINT billing_events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.billing_events
    ADD CONSTRAINT billing_events_provider_event_id_key UNIQUE (provider, event_id);

ALTER TABLE ONLY public.brand_kits
    ADD CONSTRAINT brand_kits_id_user_id_key UNIQUE (id, user_id);

ALTER TABLE ONLY public.brand_kits
    ADD CONSTRAINT brand_kits_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.creatives
    ADD CONSTRAINT creatives_pkey PRIMARY KEY (user_id, creative_id);

ALTER TABLE ONLY public.credit_accounts
    ADD CONSTRAINT credit_accounts_pkey PRIMARY KEY (user_id);

ALTER TABLE ONLY public.credit_holds
    ADD CONSTRAINT credit_holds_id_user_id_key UNIQUE (id, user_id);

ALTER TABLE ONLY public.credit_holds
    ADD CONSTRAINT credit_holds_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.credit_holds
    ADD CONSTRAINT credit_holds_user_id_idempotency_key_key UNIQUE (user_id, idempotency_key);

ALTER TABLE ONLY public.credit_ledger
    ADD CONSTRAINT credit_ledger_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.generation_claims
    ADD CONSTRAINT generation_claims_pkey PRIMARY KEY (key);

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (user_id, key);

ALTER TABLE ONLY public.job_events
    ADD CONSTRAINT job_events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.jobs
    ADD CONSTRAINT jobs_id_user_id_key UNIQUE (id, user_id);

ALTER TABLE ONLY public.jobs
    ADD CONSTRAINT jobs_pkey PRIMARY KEY (id);

ALTER TABLE public.projects
    ADD CONSTRAINT projects_brief_shape CHECK (((jsonb_typeof(brief) = 'object'::text) AND (octet_length((brief)::text) <= 4194304))) NOT VALID;

ALTER TABLE ONLY public.projects
    ADD CONSTRAINT projects_id_user_id_key UNIQUE (id, user_id);

ALTER TABLE ONLY public.projects
    ADD CONSTRAINT projects_pkey PRIMARY KEY (id);

ALTER TABLE public.projects
    ADD CONSTRAINT projects_script_options_shape CHECK (((jsonb_typeof(script_options) = 'array'::text) AND (octet_length((script_options)::text) <= 4194304))) NOT VALID;

ALTER TABLE ONLY public.provider_events
    ADD CONSTRAINT provider_events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.provider_events
    ADD CONSTRAINT provider_events_provider_event_id_key UNIQUE (provider, event_id);

ALTER TABLE ONLY public.renders
    ADD CONSTRAINT renders_id_user_id_key UNIQUE (id, user_id);

ALTER TABLE ONLY public.renders
    ADD CONSTRAINT renders_job_id_format_key UNIQUE (job_id, format);

ALTER TABLE ONLY public.renders
    ADD CONSTRAINT renders_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.uploads
    ADD CONSTRAINT uploads_id_user_id_key UNIQUE (id, user_id);

ALTER TABLE ONLY public.uploads
    ADD CONSTRAINT uploads_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_once UNIQUE (endpoint_id, webhook_id);

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_id_user_id_key UNIQUE (id, user_id);

ALTER TABLE ONLY public.webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_pkey PRIMARY KEY (id);

ALTER TABLE public.webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_rotation CHECK (((previous_secret IS NULL) = (previous_secret_expires_at IS NULL))) NOT VALID;

ALTER TABLE ONLY reelforge.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);

CREATE INDEX ad_performance_creative ON public.ad_performance USING btree (user_id, creative_id);

CREATE INDEX analytics_imports_user ON public.analytics_imports USING btree (user_id, created_at DESC);

CREATE INDEX api_keys_user ON public.api_keys USING btree (user_id, created_at DESC);

CREATE INDEX billing_events_session ON public.billing_events USING btree (provider, checkout_session) WHERE (checkout_session IS NOT NULL);

CREATE INDEX creatives_job ON public.creatives USING btree (job_id) WHERE (job_id IS NOT NULL);

CREATE INDEX credit_ledger_closed ON public.credit_ledger USING btree (closed_account, id) WHERE (closed_account IS NOT NULL);

CREATE UNIQUE INDEX credit_ledger_idempotency ON public.credit_ledger USING btree (user_id, idempotency_key) WHERE (idempotency_key IS NOT NULL);

CREATE INDEX credit_ledger_user ON public.credit_ledger USING btree (user_id, id);

CREATE INDEX idempotency_keys_created ON public.idempotency_keys USING btree (created_at);

CREATE INDEX job_events_job ON public.job_events USING btree (job_id, id);

CREATE UNIQUE INDEX jobs_active_dedupe ON public.jobs USING btree (user_id, dedupe_key) WHERE ((dedupe_key IS NOT NULL) AND (state <> ALL (ARRAY['delivered'::public.job_state, 'failed'::public.job_state, 'canceled'::public.job_state])));

CREATE INDEX jobs_leased ON public.jobs USING btree (lease_expires_at) WHERE (state = ANY (ARRAY['planning'::public.job_state, 'generating'::public.job_state, 'composing'::public.job_state, 'qc'::public.job_state]));

CREATE INDEX jobs_queued ON public.jobs USING btree (run_after, created_at) WHERE (state = 'queued'::public.job_state);

CREATE INDEX jobs_user ON public.jobs USING btree (user_id, created_at DESC);

CREATE INDEX provider_events_subject ON public.provider_events USING btree (provider, subject, occurred_at) WHERE (subject IS NOT NULL);

CREATE INDEX provider_events_task ON public.provider_events USING btree (provider, subject, job_id) WHERE (subject IS NOT NULL);

CREATE INDEX uploads_key ON public.uploads USING btree (user_id, key);

CREATE UNIQUE INDEX uploads_same_bytes ON public.uploads USING btree (user_id, kind, sha256) WHERE (state = 'ready'::text);

CREATE INDEX uploads_user ON public.uploads USING btree (user_id, created_at DESC, id DESC);

CREATE INDEX webhook_deliveries_due ON public.webhook_deliveries USING btree (next_attempt_at) WHERE (status = 'pending'::text);

CREATE INDEX webhook_deliveries_endpoint_pending ON public.webhook_deliveries USING btree (endpoint_id) WHERE (status = 'pending'::text);

CREATE INDEX webhook_deliveries_leased ON public.webhook_deliveries USING btree (user_id, endpoint_id) WHERE ((status = 'pending'::text) AND (lease_owner IS NOT NULL));

CREATE TRIGGER reelforge_starting_grant AFTER INSERT ON auth.users FOR EACH ROW EXECUTE FUNCTION public.starting_grant_trigger();

CREATE TRIGGER reelforge_starting_grant_on_conversion AFTER UPDATE ON auth.users FOR EACH ROW WHEN ((((to_jsonb(old.*) ->> 'is_anonymous'::text) = 'true'::text) AND ((to_jsonb(new.*) ->> 'is_anonymous'::text) IS DISTINCT FROM 'true'::text))) EXECUTE FUNCTION public.starting_grant_trigger();

CREATE TRIGGER credit_accounts_close BEFORE DELETE ON public.credit_accounts FOR EACH ROW EXECUTE FUNCTION public.close_credit_account();

CREATE TRIGGER credit_ledger_append_only BEFORE DELETE OR UPDATE ON public.credit_ledger FOR EACH ROW EXECUTE FUNCTION public.credit_ledger_guard();

CREATE TRIGGER job_events_append_only BEFORE DELETE OR UPDATE ON public.job_events FOR EACH ROW EXECUTE FUNCTION public.job_events_guard();

CREATE TRIGGER jobs_provider_events BEFORE DELETE ON public.jobs FOR EACH ROW EXECUTE FUNCTION public.delete_job_provider_events();

CREATE TRIGGER jobs_state_webhook AFTER UPDATE OF state ON public.jobs FOR EACH ROW EXECUTE FUNCTION public.job_state_webhook();

ALTER TABLE ONLY public.ad_performance
    ADD CONSTRAINT ad_performance_import_id_user_id_fkey FOREIGN KEY (import_id, user_id) REFERENCES public.analytics_imports(id, user_id) ON DELETE SET NULL (import_id) DEFERRABLE INITIALLY DEFERRED;

ALTER TABLE ONLY public.ad_performance
    ADD CONSTRAINT ad_performance_user_id_creative_id_fkey FOREIGN KEY (user_id, creative_id) REFERENCES public.creatives(user_id, creative_id) ON DELETE CASCADE;

ALTER TABLE ONLY public.ad_performance
    ADD CONSTRAINT ad_performance_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.analytics_imports
    ADD CONSTRAINT analytics_imports_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.assets
    ADD CONSTRAINT assets_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.billing_events
    ADD CONSTRAINT billing_events_ledger_id_fkey FOREIGN KEY (ledger_id) REFERENCES public.credit_ledger(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.brand_kits
    ADD CONSTRAINT brand_kits_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.creatives
    ADD CONSTRAINT creatives_job_id_user_id_fkey FOREIGN KEY (job_id, user_id) REFERENCES public.jobs(id, user_id) ON DELETE SET NULL (job_id);

ALTER TABLE ONLY public.creatives
    ADD CONSTRAINT creatives_project_id_user_id_fkey FOREIGN KEY (project_id, user_id) REFERENCES public.projects(id, user_id) ON DELETE SET NULL (project_id);

ALTER TABLE ONLY public.creatives
    ADD CONSTRAINT creatives_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.credit_accounts
    ADD CONSTRAINT credit_accounts_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.credit_holds
    ADD CONSTRAINT credit_holds_job_id_user_id_fkey FOREIGN KEY (job_id, user_id) REFERENCES public.jobs(id, user_id) ON DELETE SET NULL (job_id);

ALTER TABLE ONLY public.credit_holds
    ADD CONSTRAINT credit_holds_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.credit_accounts(user_id);

ALTER TABLE ONLY public.credit_ledger
    ADD CONSTRAINT credit_ledger_hold_id_user_id_fkey FOREIGN KEY (hold_id, user_id) REFERENCES public.credit_holds(id, user_id);

ALTER TABLE ONLY public.credit_ledger
    ADD CONSTRAINT credit_ledger_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.credit_accounts(user_id);

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.job_events
    ADD CONSTRAINT job_events_job_id_user_id_fkey FOREIGN KEY (job_id, user_id) REFERENCES public.jobs(id, user_id) ON DELETE CASCADE;

ALTER TABLE ONLY public.job_events
    ADD CONSTRAINT job_events_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.jobs
    ADD CONSTRAINT jobs_project_id_user_id_fkey FOREIGN KEY (project_id, user_id) REFERENCES public.projects(id, user_id);

ALTER TABLE ONLY public.jobs
    ADD CONSTRAINT jobs_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.projects
    ADD CONSTRAINT projects_brand_kit_id_user_id_fkey FOREIGN KEY (brand_kit_id, user_id) REFERENCES public.brand_kits(id, user_id);

ALTER TABLE ONLY public.projects
    ADD CONSTRAINT projects_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.renders
    ADD CONSTRAINT renders_job_id_user_id_fkey FOREIGN KEY (job_id, user_id) REFERENCES public.jobs(id, user_id) ON DELETE CASCADE;

ALTER TABLE ONLY public.renders
    ADD CONSTRAINT renders_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.uploads
    ADD CONSTRAINT uploads_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_endpoint_id_user_id_fkey FOREIGN KEY (endpoint_id, user_id) REFERENCES public.webhook_endpoints(id, user_id) ON DELETE CASCADE;

ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;

ALTER TABLE public.ad_performance ENABLE ROW LEVEL SECURITY;

CREATE POLICY ad_performance_owner ON public.ad_performance TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id)) WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));

ALTER TABLE public.analytics_imports ENABLE ROW LEVEL SECURITY;

CREATE POLICY analytics_imports_owner ON public.analytics_imports TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id)) WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));

ALTER TABLE public.api_keys ENABLE ROW LEVEL SECURITY;

CREATE POLICY api_keys_owner ON public.api_keys TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id)) WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));

ALTER TABLE public.app_config ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.assets ENABLE ROW LEVEL SECURITY;

CREATE POLICY assets_owner ON public.assets TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id)) WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));

ALTER TABLE public.billing_events ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.brand_kits ENABLE ROW LEVEL SECURITY;

CREATE POLICY brand_kits_owner ON public.brand_kits TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id)) WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));

ALTER TABLE public.creatives ENABLE ROW LEVEL SECURITY;

CREATE POLICY creatives_owner ON public.creatives TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id)) WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));

ALTER TABLE public.credit_accounts ENABLE ROW LEVEL SECURITY;

CREATE POLICY credit_accounts_owner ON public.credit_accounts TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id)) WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));

ALTER TABLE public.credit_holds ENABLE ROW LEVEL SECURITY;

CREATE POLICY credit_holds_owner ON public.credit_holds TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id)) WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));

ALTER TABLE public.credit_ledger ENABLE ROW LEVEL SECURITY;

CREATE POLICY credit_ledger_owner ON public.credit_ledger TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id)) WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));

ALTER TABLE public.generation_claims ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.idempotency_keys ENABLE ROW LEVEL SECURITY;

CREATE POLICY idempotency_keys_owner ON public.idempotency_keys TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id)) WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));

ALTER TABLE public.job_events ENABLE ROW LEVEL SECURITY;

CREATE POLICY job_events_owner ON public.job_events TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id)) WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));

ALTER TABLE public.jobs ENABLE ROW LEVEL SECURITY;

CREATE POLICY jobs_owner ON public.jobs TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id)) WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));

ALTER TABLE public.projects ENABLE ROW LEVEL SECURITY;

CREATE POLICY projects_owner ON public.projects TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id)) WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));

ALTER TABLE public.provider_events ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.renders ENABLE ROW LEVEL SECURITY;

CREATE POLICY renders_owner ON public.renders TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id)) WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));

ALTER TABLE public.uploads ENABLE ROW LEVEL SECURITY;

CREATE POLICY uploads_owner ON public.uploads TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id)) WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));

ALTER TABLE public.webhook_deliveries ENABLE ROW LEVEL SECURITY;

CREATE POLICY webhook_deliveries_owner ON public.webhook_deliveries TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id)) WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));

ALTER TABLE public.webhook_endpoints ENABLE ROW LEVEL SECURITY;

CREATE POLICY webhook_endpoints_owner ON public.webhook_endpoints TO authenticated USING ((( SELECT auth.uid() AS uid) = user_id)) WITH CHECK ((( SELECT auth.uid() AS uid) = user_id));
