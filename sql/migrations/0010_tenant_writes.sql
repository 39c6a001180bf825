-- What a tenant may write directly is exactly what reelforge's API writes as the tenant.
-- Supabase's Data API (PostgREST) lets the `authenticated` role write any row its grants and
-- RLS allow, so every table privilege beyond that is a way around the API. Until now tenants
-- could write brand kits (no API does), delete their projects, and set any column of their
-- projects, webhook endpoints, idempotency keys and performance rows. From here:
--
--   table               tenant may (besides select)
--   projects            insert (user_id, name, brief, script_options, status)
--                       update (name, brief, script_options, chosen_script, updated_at)
--   webhook_endpoints   insert (url, secret, events); delete;
--                       update (secret, previous_secret, previous_secret_expires_at: rotate;
--                               enabled, disabled_reason, disabled_at, failed_deliveries_in_row:
--                               re-enable; updated_at)
--   idempotency_keys    insert (user_id, key, request_hash, state, locked_until)
--                       update (request_hash, state, response_status, response_body,
--                               created_at, locked_until)
--   analytics_imports   insert (every column but created_at)
--   ad_performance      insert (every column but id and imported_at)
--                       update (the metrics, ad_name, currency, import_id, imported_at)
--   jobs                nothing but cancel_job() (0003)
--   everything else     nothing: jobs, job events, outputs, assets, creatives, credits,
--                       ledger, holds, deliveries are written by the service role
--
-- and what the dispatcher trusts is checked on every enabled webhook endpoint: a `whsec_`
-- secret of 24 to 64 base64 bytes (the previous one too), an https URL (or http to localhost,
-- which the API accepts only in development and the production dispatcher's transport
-- refuses), without credentials or spaces, at most 2048 characters, and at most 50 event names.

-- Columns, not tables: a table-level grant would cover every column.
revoke insert, update, delete on public.brand_kits, public.projects, public.webhook_endpoints,
  public.idempotency_keys, public.analytics_imports, public.ad_performance from authenticated;

grant insert (user_id, name, brief, script_options, status),
  update (name, brief, script_options, chosen_script, updated_at)
  on public.projects to authenticated;
grant insert (url, secret, events),
  update (secret, previous_secret, previous_secret_expires_at, enabled, disabled_reason,
          disabled_at, failed_deliveries_in_row, updated_at),
  delete
  on public.webhook_endpoints to authenticated;
grant insert (user_id, key, request_hash, state, locked_until),
  update (request_hash, state, response_status, response_body, created_at, locked_until)
  on public.idempotency_keys to authenticated;
grant insert (id, user_id, source, file_name, file_hash, rows_read, imported, updated, unchanged,
              unmatched, unmatched_rows)
  on public.analytics_imports to authenticated;
grant insert (user_id, creative_id, source, ad_key, period_start, period_end, placement, ad_name,
              currency, impressions, clicks, spend, purchases, revenue, video_3s_plays,
              thruplays, import_id),
  update (ad_name, currency, impressions, clicks, spend, purchases, revenue, video_3s_plays,
          thruplays, import_id, imported_at)
  on public.ad_performance to authenticated;

-- On Supabase the service role also holds, by default, every privilege on every table the
-- migrations create, not only what they grant it. TRUNCATE empties a table without firing its
-- row triggers, so it would erase the ledger past its append-only guard: only the owner may
-- truncate, and the ledger and job events are never updated or deleted by the service role.
revoke truncate, references, trigger on public.brand_kits, public.projects, public.jobs,
  public.job_events, public.assets, public.renders, public.credit_accounts, public.credit_holds,
  public.credit_ledger, public.idempotency_keys, public.webhook_endpoints,
  public.webhook_deliveries, public.provider_events, public.creatives, public.analytics_imports,
  public.ad_performance
  from service_role;
revoke update, delete on public.credit_ledger, public.job_events from service_role;

-- A Standard Webhooks secret as signing.py reads it: whsec_ and padded base64 of 24 to 64 bytes.
create function public.is_webhook_secret(p_secret text) returns boolean
language sql
immutable
set search_path = ''
as $$
  select coalesce(
    p_secret ~ '^whsec_([A-Za-z0-9+/]{4})+$|^whsec_([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)$'
    and (length(p_secret) - 6) / 4 * 3 - (length(p_secret) - length(rtrim(p_secret, '=')))
        between 24 and 64,
    false)
$$;

-- A URL webhooks may go to, as the API's check_url accepts it: https to any host, or http to
-- localhost or 127.0.0.1; no credentials, no spaces or control characters; schemes and hosts in
-- any case.
create function public.is_webhook_url(p_url text) returns boolean
language sql
immutable
set search_path = ''
as $$
  select coalesce(
    length(p_url) <= 2048
    and p_url ~* '^(https://[^/?#@[:space:][:cntrl:]]+|http://(localhost|127\.0\.0\.1)(:[0-9]{1,5})?)([/?#][^[:space:][:cntrl:]]*)?$',
    false)
$$;

-- Event names as the API accepts them, at most 50.
create function public.are_webhook_events(p_events text[]) returns boolean
language sql
immutable
set search_path = ''
as $$
  select coalesce(cardinality(p_events) <= 50, false)
    and not exists (
      select 1 from unnest(p_events) as e
      where e is null or length(e) > 100 or e !~ '^[a-z0-9][a-z0-9_.\-]*$'
    )
$$;

-- Every role that writes an endpoint evaluates these checks, tenants included.
grant execute on function public.is_webhook_secret(text), public.is_webhook_url(text),
  public.are_webhook_events(text[]) to public;

-- Endpoints written before these checks: an enabled one that breaks them is disabled with the
-- reason, as the dispatcher disables one (its pending deliveries go dead); its owner rotates the
-- secret, or adds a new endpoint, and re-enables it. Disabled endpoints are not checked until
-- they are enabled again.
select public.disable_webhook_endpoint(
  id,
  'disabled by migration 0010: ' || case
    when not public.is_webhook_secret(secret) then 'the secret is not a whsec_ secret; rotate it'
    when previous_secret is not null and not public.is_webhook_secret(previous_secret)
      then 'the previous secret is not a whsec_ secret; rotate it'
    when not public.is_webhook_url(url) then 'the URL must be https, without credentials'
    else 'more than 50 or malformed event names'
  end,
  now())
from public.webhook_endpoints
where enabled and not (
  public.is_webhook_secret(secret)
  and (previous_secret is null or public.is_webhook_secret(previous_secret))
  and public.is_webhook_url(url)
  and public.are_webhook_events(events)
);

-- 0001's check on every endpoint, now in any case as the API accepts it (HTTPS://...).
alter table public.webhook_endpoints
  drop constraint webhook_endpoints_url_check,
  add constraint webhook_endpoints_url_check check (url ~* '^https?://'),
  add constraint webhook_endpoints_deliverable check (
    not enabled or (
      public.is_webhook_secret(secret)
      and (previous_secret is null or public.is_webhook_secret(previous_secret))
      and public.is_webhook_url(url)
      and public.are_webhook_events(events)
    )
  ),
  add constraint webhook_endpoints_rotation check (
    (previous_secret is null) = (previous_secret_expires_at is null)
  ) not valid;

-- Projects hold a brief (a JSON object) and its script options (an array), of a size the API's
-- 1 MiB body limit allows. NOT VALID: a row a tenant wrote directly before this migration stays
-- as it was (the API refuses to edit or render what fails its own validation); every write from
-- now on is checked.
alter table public.projects
  add constraint projects_brief_shape check (
    jsonb_typeof(brief) = 'object' and octet_length(brief::text) <= 4194304
  ) not valid,
  add constraint projects_script_options_shape check (
    jsonb_typeof(script_options) = 'array' and octet_length(script_options::text) <= 4194304
  ) not valid;

-- A job's lease and its state agree, as the queue functions keep them: a working job has an
-- owner and an expiry, any other has neither; a job has finished_at once delivered, failed or
-- canceled. The sweeper reclaims by these columns.
alter table public.jobs
  add constraint jobs_lease_state check (
    (lease_owner is null) = (lease_expires_at is null)
    and (lease_owner is not null) = (state in ('planning', 'generating', 'composing', 'qc'))
  ) not valid,
  add constraint jobs_finished_state check (
    (finished_at is not null) = (state in ('delivered', 'failed', 'canceled'))
  ) not valid;
alter table public.jobs validate constraint jobs_lease_state;
alter table public.jobs validate constraint jobs_finished_state;

-- A delivery that cannot even be attempted (its endpoint's secret or URL predates the checks
-- above, or is otherwise unusable) fails with the reason and disables its endpoint, so the
-- dispatcher, shared by every tenant, moves on instead of tripping over it each time it is due.
create function public.quarantine_webhook_delivery(
  p_delivery uuid, p_worker text, p_reason text, p_now timestamptz default now()
) returns public.webhook_deliveries
language plpgsql
security definer
set search_path = ''
as $$
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

revoke all on function public.quarantine_webhook_delivery(uuid, text, text, timestamptz)
  from public, anon, authenticated;
grant execute on function public.quarantine_webhook_delivery(uuid, text, text, timestamptz)
  to service_role;
