-- migrations/is_supabase: Whether this database is a Supabase project (it has Supabase's admin role).
select exists (select 1 from pg_catalog.pg_roles where rolname = 'supabase_admin') as supabase
