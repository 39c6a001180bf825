-- What a front end needs: uploaded files and API keys.
--
-- uploads: a user's photos, logos, fonts, music and voice-overs, stored content-addressed in the
-- blob store under '<user>/uploads/<sha256>.<ext>' (the same bytes of the same kind are one
-- upload). Rows are written by the service only, after the API has checked the content; a tenant
-- may read its own. A browser's signed upload starts 'pending' at a staging key under the user's
-- folder and becomes 'ready' once the API has checked what arrived there.
--
-- api_keys: per-user keys for server-to-server calls. Only the SHA-256 of a key is kept (the key
-- has 256 random bits, so a plain hash cannot be reversed); a revoked key stays for the record.
-- Written by the service only (the API shows the key once); a tenant may read its own rows.

create table public.uploads (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  kind text not null check (kind in ('photo', 'logo', 'font', 'music', 'voice_over')),
  state text not null default 'ready' check (state in ('pending', 'ready')),
  key text not null check (length(key) between 1 and 512),
  sha256 text check (sha256 ~ '^[0-9a-f]{64}$'),
  size bigint check (size > 0),
  content_type text check (content_type ~ '^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$'),
  original_name text check (length(original_name) between 1 and 255),
  created_at timestamptz not null default now(),
  unique (id, user_id),
  -- A key lies in its owner's folder: no row can make the service reach another user's blob.
  constraint uploads_key_owner check (starts_with(key, user_id::text || '/')),
  constraint uploads_ready_complete check (
    (state = 'ready') = (sha256 is not null and size is not null and content_type is not null)
  )
);
create unique index uploads_same_bytes on public.uploads (user_id, kind, sha256)
  where state = 'ready';
create index uploads_user on public.uploads (user_id, created_at desc, id desc);
create index uploads_key on public.uploads (user_id, key);

create table public.api_keys (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  name text not null check (length(name) between 1 and 100),
  prefix text not null check (prefix ~ '^rf_live_[A-Za-z0-9_-]{4}$'),
  secret_hash text not null unique check (secret_hash ~ '^[0-9a-f]{64}$'),
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz,
  unique (id, user_id)
);
create index api_keys_user on public.api_keys (user_id, created_at desc);

do $$
declare
  t text;
begin
  foreach t in array array['uploads', 'api_keys'] loop
    execute format('alter table public.%I enable row level security', t);
    execute format('alter table public.%I force row level security', t);
    -- Supabase grants every privilege on a new table to its API roles (service_role too, with
    -- TRUNCATE, which skips row triggers): nothing but what is granted below.
    execute format('revoke all on table public.%I from public, anon, authenticated, service_role', t);
    execute format(
      'create policy %I on public.%I as permissive for all to authenticated '
      'using ((select auth.uid()) = user_id) with check ((select auth.uid()) = user_id)',
      t || '_owner', t);
  end loop;
end
$$;

grant select on public.uploads, public.api_keys to authenticated;
grant select, insert, update, delete on public.uploads, public.api_keys to service_role;

-- The job.delivered webhook names its outputs: format, size, length and the blob key of each
-- recorded render, and the job's stable API path. Signed links expire, so none is written here:
-- the dispatcher signs fresh ones from these keys each time it sends (a retry a day later still
-- carries working links) and leaves the keys out of what it sends.
create or replace function public.job_state_webhook() returns trigger
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

revoke all on function public.job_state_webhook() from public, anon, authenticated;
