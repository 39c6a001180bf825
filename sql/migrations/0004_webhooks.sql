-- Webhooks: an outbox of deliveries (one per subscribed endpoint, written in the caller's
-- transaction), claimed under a lease, attempts recorded, endpoints disabled on 410 Gone or after
-- repeated failure; provider callbacks deduplicated on (provider, event_id).
-- Errors: 22023 bad argument, RF002 unknown user, RF006 unknown row, RF007 lease not held.

alter table public.webhook_endpoints
  add column previous_secret text check (length(previous_secret) >= 24),
  add column previous_secret_expires_at timestamptz,
  add column disabled_at timestamptz,
  add column failed_deliveries_in_row integer not null default 0
    check (failed_deliveries_in_row >= 0),
  add column updated_at timestamptz not null default now();

-- webhook_id is the Standard Webhooks message id: one per event, the same on every retry.
alter table public.webhook_deliveries
  add column webhook_id text not null
    default ('msg_' || replace(gen_random_uuid()::text, '-', ''))
    check (webhook_id ~ '^[A-Za-z0-9_.:-]{1,200}$'),
  add column lease_owner text check (length(lease_owner) between 1 and 200),
  add constraint webhook_deliveries_once unique (endpoint_id, webhook_id);
create index webhook_deliveries_endpoint_pending on public.webhook_deliveries (endpoint_id)
  where status = 'pending';

-- Lets a handler see whether a newer event about the same object already arrived.
alter table public.provider_events
  add column subject text check (length(subject) between 1 and 255),
  add column occurred_at timestamptz;
create index provider_events_subject on public.provider_events (provider, subject, occurred_at)
  where subject is not null;

-- Writes one pending delivery per enabled endpoint of the user subscribed to the event (an empty
-- events list subscribes to all). Runs in the caller's transaction, so the outbox row commits or
-- rolls back with the state change. A repeated p_webhook_id adds nothing for the same endpoint.
create function public.enqueue_webhook(
  p_user uuid, p_event_type text, p_payload jsonb, p_webhook_id text default null
) returns setof public.webhook_deliveries
language plpgsql
security definer
set search_path = ''
as $$
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
$$;

-- Claims the next due delivery of an enabled endpoint under a lease: attempts + 1, and it is not
-- due again until the lease ends (a dispatcher that dies mid-attempt is retried then).
create function public.claim_webhook_delivery(
  p_worker text, p_now timestamptz default now(), p_lease_seconds integer default 60
) returns setof public.webhook_deliveries
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_delivery public.webhook_deliveries;
begin
  if p_worker is null or length(p_worker) not between 1 and 200 then
    raise exception 'worker name must be 1 to 200 characters' using errcode = '22023';
  end if;
  if p_lease_seconds is null or p_lease_seconds not between 1 and 3600 then
    raise exception 'lease must be between 1 and 3600 seconds' using errcode = '22023';
  end if;
  select d.* into v_delivery from public.webhook_deliveries d
    join public.webhook_endpoints e on e.id = d.endpoint_id and e.user_id = d.user_id
    where d.status = 'pending' and d.next_attempt_at <= coalesce(p_now, now()) and e.enabled
    order by d.next_attempt_at, d.created_at
    for update of d skip locked
    limit 1;
  if not found then
    return;
  end if;
  update public.webhook_deliveries
    set attempts = attempts + 1, lease_owner = p_worker,
        next_attempt_at = coalesce(p_now, now()) + make_interval(secs => p_lease_seconds)
    where id = v_delivery.id returning * into v_delivery;
  return next v_delivery;
end
$$;

-- Disables an endpoint with a reason; its pending deliveries become dead.
create function public.disable_webhook_endpoint(
  p_endpoint uuid, p_reason text, p_now timestamptz
) returns void
language sql
security definer
set search_path = ''
as $$
  update public.webhook_endpoints
    set enabled = false, disabled_reason = p_reason, disabled_at = p_now, updated_at = p_now
    where id = p_endpoint;
  update public.webhook_deliveries
    set status = 'dead', lease_owner = null, last_error = 'endpoint disabled: ' || p_reason
    where endpoint_id = p_endpoint and status = 'pending';
$$;

-- Records the result of the attempt the worker holds. 2xx: delivered. 410: failed and the
-- endpoint disabled. Other failures: pending again at p_next_attempt_at, or failed when it is
-- null (the schedule is exhausted); p_disable_after such failed deliveries in a row, with no
-- success between, disable the endpoint.
create function public.record_webhook_attempt(
  p_delivery uuid,
  p_worker text,
  p_status_code integer,
  p_error text,
  p_next_attempt_at timestamptz,
  p_now timestamptz default now(),
  p_disable_after integer default 5
) returns public.webhook_deliveries
language plpgsql
security definer
set search_path = ''
as $$
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

revoke all on function public.enqueue_webhook(uuid, text, jsonb, text),
  public.claim_webhook_delivery(text, timestamptz, integer),
  public.disable_webhook_endpoint(uuid, text, timestamptz),
  public.record_webhook_attempt(uuid, text, integer, text, timestamptz, timestamptz, integer)
  from public, anon, authenticated;
grant execute on function public.enqueue_webhook(uuid, text, jsonb, text),
  public.claim_webhook_delivery(text, timestamptz, integer),
  public.record_webhook_attempt(uuid, text, integer, text, timestamptz, timestamptz, integer)
  to service_role;
