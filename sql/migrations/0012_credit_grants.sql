-- Credits for real users: a configured starting grant applied once when a user is created, grants
-- by the service, and Stripe Checkout purchases recorded once per event. Every credit still moves
-- through safe_adjust_credits, and its per-user idempotency keys make each kind happen once:
--   starting-grant              the starting grant (once per user, whatever calls it)
--   grant:<key>                 a service grant (reelforge credits grant, POST /v1/admin/credits/grants)
--   stripe:checkout:<session>   a Checkout Session's purchase (once per session, whatever its events)

-- What the database itself must know about the service, in one row: a trigger on auth.users
-- cannot read reelforge's environment. Only the service role reads or changes it.
create table public.app_config (
  id boolean primary key default true check (id),
  starting_grant bigint not null default 0 check (starting_grant between 0 and 1000000000),
  updated_at timestamptz not null default now()
);
insert into public.app_config (id) values (true);

-- Payment events (not tenant data: the user is whatever the payment names, known or not). The
-- unique event id makes a redelivery a no-op; the row is written in the transaction that credits.
-- No copy of the payload is kept: it carries the customer's name, email and address.
create table public.billing_events (
  id bigserial primary key,
  provider text not null check (provider in ('stripe')),
  event_id text not null check (length(event_id) between 1 and 255),
  event_type text not null check (length(event_type) between 1 and 255),
  livemode boolean not null default false,
  checkout_session text check (length(checkout_session) between 1 and 184),
  client_reference_id text check (length(client_reference_id) between 1 and 255),
  credits bigint check (credits between 1 and 1000000000),
  amount_total bigint,
  currency text check (currency ~ '^[a-z]{3}$'),
  outcome text not null check (
    outcome in ('credited', 'already_credited', 'unknown_user', 'not_paid', 'invalid', 'ignored')
  ),
  detail text check (length(detail) between 1 and 500),
  ledger_id bigint references public.credit_ledger (id) on delete set null,
  received_at timestamptz not null default now(),
  unique (provider, event_id)
);
create index billing_events_session on public.billing_events (provider, checkout_session)
  where checkout_session is not null;

do $$
declare
  t text;
begin
  foreach t in array array['app_config', 'billing_events'] loop
    execute format('alter table public.%I enable row level security', t);
    execute format('alter table public.%I force row level security', t);
    -- Supabase grants everything on new tables to its API roles by default (service_role too,
    -- with TRUNCATE, which skips row triggers): nothing but what is granted below.
    execute format('revoke all on table public.%I from public, anon, authenticated, service_role', t);
  end loop;
end
$$;
grant select, update on public.app_config to service_role;
-- Billing events are written only by record_billing_event, in the transaction that credits.
grant select on public.billing_events to service_role;
revoke all on sequence public.billing_events_id_seq from public, anon, authenticated, service_role;

-- The starting grant of one user: the configured amount under the key 'starting-grant', or null
-- while the grant is 0 (off). Calling it again returns the first entry and changes nothing.
create function public.grant_starting_credits(p_user uuid) returns public.credit_ledger
language plpgsql
security definer
set search_path = ''
as $$
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

-- A new user (or an anonymous one who became permanent) gets the starting grant, in the
-- transaction that creates them: the user exists with the grant or not at all. Anonymous users
-- (Supabase's is_anonymous) get nothing until they convert, so anonymous sign-ins earn nothing.
create function public.starting_grant_trigger() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if coalesce((to_jsonb(new) ->> 'is_anonymous')::boolean, false) then
    return null;
  end if;
  perform public.grant_starting_credits(new.id);
  return null;
end
$$;

create trigger reelforge_starting_grant after insert on auth.users
  for each row execute function public.starting_grant_trigger();
-- Off Supabase auth.users has no is_anonymous column: to_jsonb reads it as null, never true.
create trigger reelforge_starting_grant_on_conversion after update on auth.users
  for each row
  when ((to_jsonb(old) ->> 'is_anonymous') = 'true'
        and (to_jsonb(new) ->> 'is_anonymous') is distinct from 'true')
  execute function public.starting_grant_trigger();

-- A grant by the service under its key ('grant:' || p_key); replayed says the key had already
-- taken effect, and entry is then the first grant's (whatever amount this call asked for).
create function public.grant_credits(
  p_user uuid, p_amount bigint, p_reason text, p_key text,
  out entry public.credit_ledger, out replayed boolean
)
language plpgsql
security definer
set search_path = ''
as $$
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

-- Records a payment event once per (provider, event id) and, when p_outcome is null, credits the
-- purchase in the same transaction: p_credits to p_user, once per checkout session. The event's
-- outcome says what happened: credited, already_credited (another event of the session did),
-- unknown_user (recorded, nothing credited); a non-null p_outcome is recorded as given. A
-- duplicate event returns the first record with duplicate = true and changes nothing.
create function public.record_billing_event(
  p_provider text, p_event_id text, p_event_type text, p_livemode boolean, p_session text,
  p_client_reference text, p_user uuid, p_credits bigint, p_amount_total bigint,
  p_currency text, p_outcome text, p_detail text,
  out event public.billing_events, out duplicate boolean
)
language plpgsql
security definer
set search_path = ''
as $$
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

revoke all on function public.grant_starting_credits(uuid), public.starting_grant_trigger(),
  public.grant_credits(uuid, bigint, text, text),
  public.record_billing_event(text, text, text, boolean, text, text, uuid, bigint, bigint, text,
    text, text)
  from public, anon, authenticated;
grant execute on function public.grant_starting_credits(uuid),
  public.grant_credits(uuid, bigint, text, text),
  public.record_billing_event(text, text, text, boolean, text, text, uuid, bigint, bigint, text,
    text, text)
  to service_role;
