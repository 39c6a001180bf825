-- migrations/supabase_history_exists: Whether the Supabase CLI's migration history exists here.
select to_regclass('supabase_migrations.schema_migrations') is not null as present
