-- The analytics loop: every rendered output as a creative with a stable id and its attributes, ad
-- performance imported from Meta and Google (CSV exports or their APIs) joined to creatives by that
-- id, and a record of every import. All tenant data under RLS, like 0001's tables.
--
-- 0001's ad_performance was a placeholder that nothing wrote (one row per platform and day, keyed
-- to a render): it is replaced by a table keyed the way reports arrive, by source, creative, ad,
-- reporting period and placement, so importing the same report again updates rows in place.

drop table public.ad_performance;

create table public.creatives (
  user_id uuid not null references auth.users (id) on delete cascade,
  creative_id text not null check (creative_id ~ '^rf-[a-z0-9]{4,64}$'),
  job_id uuid,
  project_id uuid,
  sku text not null check (length(sku) between 1 and 64),
  product text not null check (length(product) between 1 and 200),
  template text not null check (length(template) between 1 and 100),
  duration_s double precision not null check (duration_s > 0),
  duration_bucket text not null check (length(duration_bucket) between 1 and 20),
  palette_colour text not null check (length(palette_colour) <= 100),
  voice text not null check (voice in ('on', 'off')),
  caption_style text not null check (length(caption_style) <= 100),
  hook text not null check (length(hook) <= 500),
  format text not null check (format ~ '^[0-9]+x[0-9]+$'),
  script_option integer not null check (script_option >= 1),
  ad_name text not null check (length(ad_name) between 1 and 400),
  landing_url text not null check (landing_url ~ '^https?://'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (user_id, creative_id),
  check (position(creative_id in ad_name) > 0),
  foreign key (job_id, user_id) references public.jobs (id, user_id) on delete set null (job_id),
  foreign key (project_id, user_id) references public.projects (id, user_id)
    on delete set null (project_id)
);
create index creatives_job on public.creatives (job_id) where job_id is not null;

-- One import of one report (a file or an API pull), with what it did; unmatched rows are kept here
-- so they are reported, never silently dropped.
create table public.analytics_imports (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  source text not null check (source in ('meta_csv', 'google_csv', 'meta_api', 'google_api')),
  file_name text not null default '' check (length(file_name) <= 300),
  file_hash text not null check (file_hash ~ '^[0-9a-f]{64}$'),
  rows_read integer not null check (rows_read >= 0),
  imported integer not null check (imported >= 0),
  updated integer not null check (updated >= 0),
  unchanged integer not null check (unchanged >= 0),
  unmatched integer not null check (unmatched >= 0),
  unmatched_rows jsonb not null default '[]',
  created_at timestamptz not null default now(),
  unique (id, user_id)
);
create index analytics_imports_user on public.analytics_imports (user_id, created_at desc);

-- One reporting row per (source, creative, ad, period, placement): a re-import replaces it in
-- place. One creative runs as many ads (campaigns, ad sets): ``ad_key`` tells them apart (the
-- platform's ad id from an API, "Campaign | Ad set | Ad" as a CSV export names it), so exports
-- of different campaigns for the same period add up instead of replacing each other.
create table public.ad_performance (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  creative_id text not null,
  source text not null check (source in ('meta_csv', 'google_csv', 'meta_api', 'google_api')),
  period_start date not null,
  period_end date not null,
  placement text not null default '' check (length(placement) <= 100),
  ad_key text not null default '' check (length(ad_key) <= 1000),
  ad_name text not null default '' check (length(ad_name) <= 400),
  currency text not null check (currency ~ '^[A-Z]{3}$'),
  impressions bigint not null check (impressions >= 0),
  clicks bigint not null check (clicks >= 0),
  spend numeric not null check (spend >= 0),
  purchases bigint not null default 0 check (purchases >= 0),
  revenue numeric not null default 0 check (revenue >= 0),
  video_3s_plays bigint check (video_3s_plays >= 0),
  thruplays bigint check (thruplays >= 0),
  import_id uuid,
  imported_at timestamptz not null default now(),
  check (period_end >= period_start),
  unique (user_id, source, creative_id, ad_key, period_start, period_end, placement),
  foreign key (user_id, creative_id) references public.creatives (user_id, creative_id)
    on delete cascade,
  -- Deferred: an import writes its rows first and its summary (with the counts) last.
  foreign key (import_id, user_id) references public.analytics_imports (id, user_id)
    on delete set null (import_id) deferrable initially deferred
);
create index ad_performance_creative on public.ad_performance (user_id, creative_id);

do $$
declare
  t text;
begin
  foreach t in array array['creatives', 'analytics_imports', 'ad_performance'] loop
    execute format('alter table public.%I enable row level security', t);
    execute format('alter table public.%I force row level security', t);
    execute format('revoke all on table public.%I from public, anon, authenticated', t);
    execute format(
      'create policy %I on public.%I as permissive for all to authenticated '
      'using ((select auth.uid()) = user_id) with check ((select auth.uid()) = user_id)',
      t || '_owner', t);
  end loop;
end
$$;

-- Creatives are written by renders (service role); a tenant reads them and imports its reports.
grant select on public.creatives to authenticated;
grant select, insert on public.analytics_imports to authenticated;
grant select, insert, update on public.ad_performance to authenticated;
grant select, insert, update, delete on public.creatives, public.analytics_imports,
  public.ad_performance to service_role;
