-- Claims on paid provider generations, keyed by the asset's cache key: of the jobs asking for
-- the same asset at once, in any container, exactly one pays (pipeline/claims.py). The holder
-- renews its lease while it generates, then marks the claim done (the asset is in the shared
-- cache) or failed; a claim whose lease ran out is taken over. Service data, not a tenant's: a
-- key is a hash of a provider question, and the cached asset is shared by every job that asks
-- it. Only the service role reads or writes it (render containers through the API).
create table public.generation_claims (
  key text primary key check (key ~ '^[0-9a-f]{64}$'),
  owner text not null check (length(owner) between 1 and 200),
  state text not null default 'pending' check (state in ('pending', 'done', 'failed')),
  lease_expires_at timestamptz not null,
  attempts integer not null default 1 check (attempts >= 1),
  error text check (length(error) <= 1000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- a pending claim holds a lease of 1 second to 1 hour from its last write
  constraint generation_claims_lease_check check (
    state <> 'pending'
    or (lease_expires_at > updated_at and lease_expires_at <= updated_at + interval '1 hour')
  )
);

alter table public.generation_claims enable row level security;
alter table public.generation_claims force row level security;
-- Supabase grants everything on new tables to its API roles by default (service_role too, with
-- TRUNCATE and DELETE): nothing but what is granted below.
revoke all on table public.generation_claims from public, anon, authenticated, service_role;
grant select, insert, update on public.generation_claims to service_role;
-- RLS is forced and service_role bypasses it; no policy: no other role sees a row.
