-- Fair webhook delivery: claims hand out due deliveries oldest first, in batches, but never more
-- than p_per_endpoint attempts in flight for one endpoint nor p_per_tenant for one tenant,
-- counted over every dispatcher. A delivery is in flight while its lease runs (leased and not yet
-- due again), so a hanging endpoint holds at most its own slots, a tenant at most its own, and a
-- dispatcher that died frees its slots when its leases end.
-- Errors: 22023 bad argument.

-- The in-flight deliveries: few (at most the dispatchers' concurrency), counted on every claim.
create index webhook_deliveries_leased on public.webhook_deliveries (user_id, endpoint_id)
  where status = 'pending' and lease_owner is not null;

-- Claims up to p_limit due deliveries of enabled endpoints under a lease (attempts + 1; not due
-- again until the lease ends), oldest due first, skipping endpoints and tenants at their cap.
-- Claimers of one tenant take turns (a transaction-level advisory lock, tried, never waited
-- for), and each count is a statement of its own run after the lock is held, so it sees every
-- claim committed before: two dispatchers cannot both take an endpoint's last free slot.
create function public.claim_webhook_deliveries(
  p_worker text,
  p_now timestamptz default now(),
  p_lease_seconds integer default 60,
  p_limit integer default 1,
  p_per_endpoint integer default 1,
  p_per_tenant integer default 4
) returns setof public.webhook_deliveries
language plpgsql
security definer
set search_path = ''
as $$
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

-- Dispatchers of the previous release call this while a deploy replaces them: it claims one
-- delivery under the default caps. Nothing in this release calls it; drop it in a later one.
create or replace function public.claim_webhook_delivery(
  p_worker text, p_now timestamptz default now(), p_lease_seconds integer default 60
) returns setof public.webhook_deliveries
language sql
security definer
set search_path = ''
as $$
  select * from public.claim_webhook_deliveries(p_worker, p_now, p_lease_seconds, 1);
$$;

revoke all on function
  public.claim_webhook_deliveries(text, timestamptz, integer, integer, integer, integer)
  from public, anon, authenticated;
grant execute on function
  public.claim_webhook_deliveries(text, timestamptz, integer, integer, integer, integer)
  to service_role;
