-- Tenant tables, row-level security and table privileges. Tenant = Supabase user id (auth.users).
-- Cross-table references carry user_id in a composite foreign key, because foreign-key checks bypass
-- RLS: without it a tenant could attach rows to another tenant's ids.

create type public.job_state as enum (
  'queued', 'planning', 'generating', 'composing', 'qc', 'awaiting_review', 'delivered', 'failed',
  'canceled'
);
create type public.hold_status as enum ('held', 'settled', 'released');

create table public.brand_kits (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  name text not null check (length(name) between 1 and 200),
  kit jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, user_id)
);

create table public.projects (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  brand_kit_id uuid,
  name text not null check (length(name) between 1 and 200),
  brief jsonb not null,
  script_options jsonb not null default '[]',
  chosen_script integer check (chosen_script >= 0),
  status text not null default 'draft'
    check (status in ('draft', 'scripted', 'rendering', 'delivered', 'archived')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, user_id),
  foreign key (brand_kit_id, user_id) references public.brand_kits (id, user_id)
);

create table public.jobs (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  project_id uuid,
  kind text not null default 'render' check (length(kind) between 1 and 100),
  payload jsonb not null default '{}',
  state public.job_state not null default 'queued',
  progress real not null default 0 check (progress between 0 and 1),
  attempts integer not null default 0 check (attempts >= 0),
  max_attempts integer not null default 3 check (max_attempts between 1 and 100),
  run_after timestamptz not null default now(),
  lease_owner text,
  lease_expires_at timestamptz,
  error text,
  checkpoints jsonb not null default '{}',
  dedupe_key text check (length(dedupe_key) between 1 and 200),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz,
  unique (id, user_id),
  foreign key (project_id, user_id) references public.projects (id, user_id)
);
-- Same dedupe key while a job is active: one job.
create unique index jobs_active_dedupe on public.jobs (user_id, dedupe_key)
  where dedupe_key is not null and state not in ('delivered', 'failed', 'canceled');
create index jobs_queued on public.jobs (run_after, created_at) where state = 'queued';
create index jobs_leased on public.jobs (lease_expires_at)
  where state in ('planning', 'generating', 'composing', 'qc');
create index jobs_user on public.jobs (user_id, created_at desc);

create table public.job_events (
  id bigserial primary key,
  job_id uuid not null,
  user_id uuid not null references auth.users (id) on delete cascade,
  kind text not null check (kind in ('state', 'progress', 'claimed', 'heartbeat', 'retry', 'log')),
  state public.job_state not null,
  progress real,
  message text,
  created_at timestamptz not null default now(),
  foreign key (job_id, user_id) references public.jobs (id, user_id) on delete cascade
);
create index job_events_job on public.job_events (job_id, id);

create table public.assets (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  key text not null check (length(key) between 1 and 200),
  kind text not null check (kind in ('image', 'clip', 'voice', 'music', 'caption', 'stock', 'other')),
  provider text not null,
  model text not null default '',
  sku text,
  cost bigint not null default 0 check (cost >= 0),
  storage_path text not null,
  bytes bigint check (bytes >= 0),
  created_at timestamptz not null default now(),
  -- Content-addressed per tenant: a shared cache would reveal other tenants' prompts and assets.
  unique (user_id, key)
);

create table public.renders (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  job_id uuid not null,
  format text not null check (format ~ '^[0-9]+x[0-9]+$'),
  path text not null,
  width integer not null check (width > 0),
  height integer not null check (height > 0),
  duration_s double precision not null check (duration_s > 0),
  loudness_lufs double precision,
  qc jsonb not null default '{}',
  created_at timestamptz not null default now(),
  unique (job_id, format),
  unique (id, user_id),
  foreign key (job_id, user_id) references public.jobs (id, user_id) on delete cascade
);

create table public.credit_accounts (
  user_id uuid primary key references auth.users (id) on delete cascade,
  balance bigint not null default 0 check (balance >= 0),
  updated_at timestamptz not null default now()
);

create table public.credit_holds (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.credit_accounts (user_id) on delete cascade,
  job_id uuid,
  amount bigint not null check (amount > 0),
  status public.hold_status not null default 'held',
  settled_amount bigint check (settled_amount >= 0 and settled_amount <= amount),
  idempotency_key text check (length(idempotency_key) between 1 and 200),
  created_at timestamptz not null default now(),
  resolved_at timestamptz,
  unique (user_id, idempotency_key),
  unique (id, user_id),
  foreign key (job_id, user_id) references public.jobs (id, user_id) on delete cascade,
  check ((status = 'held') = (resolved_at is null)),
  check ((status = 'settled') = (settled_amount is not null))
);

create table public.credit_ledger (
  id bigserial primary key,
  user_id uuid not null references public.credit_accounts (user_id) on delete cascade,
  delta bigint not null check (delta <> 0),
  balance_after bigint not null check (balance_after >= 0),
  reason text not null check (length(reason) between 1 and 200),
  hold_id uuid,
  idempotency_key text check (length(idempotency_key) between 1 and 200),
  created_at timestamptz not null default now(),
  foreign key (hold_id, user_id) references public.credit_holds (id, user_id) on delete cascade
);
create unique index credit_ledger_idempotency on public.credit_ledger (user_id, idempotency_key)
  where idempotency_key is not null;
create index credit_ledger_user on public.credit_ledger (user_id, id);

create table public.idempotency_keys (
  user_id uuid not null references auth.users (id) on delete cascade,
  key text not null check (length(key) between 1 and 255),
  request_hash text not null,
  state text not null default 'running' check (state in ('running', 'done')),
  response_status integer check (response_status between 100 and 599),
  response_body jsonb,
  created_at timestamptz not null default now(),
  locked_until timestamptz,
  primary key (user_id, key),
  check ((state = 'done') = (response_status is not null))
);
create index idempotency_keys_created on public.idempotency_keys (created_at);

create table public.webhook_endpoints (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  url text not null check (url ~ '^https?://'),
  secret text not null check (length(secret) >= 24),
  events text[] not null default '{}',
  enabled boolean not null default true,
  disabled_reason text,
  created_at timestamptz not null default now(),
  unique (id, user_id)
);

create table public.webhook_deliveries (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  endpoint_id uuid not null,
  event_type text not null,
  payload jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'delivered', 'failed', 'dead')),
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  last_status_code integer,
  last_error text,
  created_at timestamptz not null default now(),
  delivered_at timestamptz,
  foreign key (endpoint_id, user_id) references public.webhook_endpoints (id, user_id) on delete cascade
);
create index webhook_deliveries_due on public.webhook_deliveries (next_attempt_at)
  where status = 'pending';

-- Provider callbacks (not tenant data): the unique event id makes redelivery a no-op.
create table public.provider_events (
  id bigserial primary key,
  provider text not null check (length(provider) between 1 and 100),
  event_id text not null check (length(event_id) between 1 and 255),
  payload jsonb not null,
  received_at timestamptz not null default now(),
  processed_at timestamptz,
  unique (provider, event_id)
);

create table public.ad_performance (
  id bigserial primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  platform text not null check (platform in ('meta', 'tiktok', 'youtube', 'other')),
  creative_id text not null,
  render_id uuid,
  day date not null,
  impressions bigint not null default 0 check (impressions >= 0),
  clicks bigint not null default 0 check (clicks >= 0),
  conversions bigint not null default 0 check (conversions >= 0),
  spend_micros bigint not null default 0 check (spend_micros >= 0),
  revenue_micros bigint not null default 0 check (revenue_micros >= 0),
  currency text not null default 'USD' check (currency ~ '^[A-Z]{3}$'),
  metrics jsonb not null default '{}',
  imported_at timestamptz not null default now(),
  unique (user_id, platform, creative_id, day),
  foreign key (render_id, user_id) references public.renders (id, user_id) on delete set null (render_id)
);

-- A job with its render count, for status pages; security_invoker keeps the caller's RLS.
create view public.job_summaries with (security_invoker = true) as
  select j.id, j.user_id, j.project_id, j.kind, j.state, j.progress, j.attempts, j.error,
         j.created_at, j.updated_at, j.finished_at,
         (select count(*) from public.renders r where r.job_id = j.id) as render_count
  from public.jobs j;

-- Append-only tables: no update or delete, whoever asks (cascades from auth.users included).
create function public.forbid_change() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  raise exception '% is append-only', tg_table_name using errcode = '42501';
end
$$;
revoke all on function public.forbid_change() from public;

create trigger credit_ledger_append_only before update or delete on public.credit_ledger
  for each row execute function public.forbid_change();
create trigger job_events_append_only before update or delete on public.job_events
  for each row execute function public.forbid_change();

-- Row-level security: enabled and forced everywhere; one owner policy per tenant table. What a
-- tenant may do on its rows is decided by the grants below.
do $$
declare
  t text;
begin
  foreach t in array array[
    'brand_kits', 'projects', 'jobs', 'job_events', 'assets', 'renders', 'credit_accounts',
    'credit_holds', 'credit_ledger', 'idempotency_keys', 'webhook_endpoints',
    'webhook_deliveries', 'ad_performance', 'provider_events'
  ] loop
    execute format('alter table public.%I enable row level security', t);
    execute format('alter table public.%I force row level security', t);
    -- Supabase grants everything on new tables to anon and authenticated by default.
    execute format('revoke all on table public.%I from public, anon, authenticated', t);
    if t <> 'provider_events' then
      execute format(
        'create policy %I on public.%I as permissive for all to authenticated '
        'using ((select auth.uid()) = user_id) with check ((select auth.uid()) = user_id)',
        t || '_owner', t);
    end if;
  end loop;
end
$$;

revoke all on table public.job_summaries from public, anon, authenticated;

grant select, insert, update, delete on public.brand_kits, public.projects, public.webhook_endpoints
  to authenticated;
grant select, insert, update on public.idempotency_keys to authenticated;
grant select on public.jobs, public.job_events, public.assets, public.renders,
  public.credit_accounts, public.credit_holds, public.credit_ledger, public.webhook_deliveries,
  public.ad_performance, public.job_summaries to authenticated;

grant select, insert, update, delete on public.brand_kits, public.projects, public.jobs,
  public.assets, public.renders, public.credit_accounts, public.credit_holds,
  public.idempotency_keys, public.webhook_endpoints, public.webhook_deliveries,
  public.provider_events, public.ad_performance to service_role;
grant select, insert on public.credit_ledger, public.job_events to service_role;
grant select on public.job_summaries to service_role;
revoke all on sequence public.job_events_id_seq, public.credit_ledger_id_seq,
  public.provider_events_id_seq, public.ad_performance_id_seq from public, anon, authenticated;
grant usage on sequence public.job_events_id_seq, public.credit_ledger_id_seq,
  public.provider_events_id_seq, public.ad_performance_id_seq to service_role;
