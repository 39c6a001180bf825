-- migrations/supabase_history_applied: Whether the Supabase CLI's history has one version (a timestamp).
select 1 from supabase_migrations.schema_migrations where version = %(version)s
