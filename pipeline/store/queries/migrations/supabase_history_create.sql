-- migrations/supabase_history_create: The Supabase CLI's migration history, created with the CLI's own statements (pkg/migration/history.go).
create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (version text not null primary key);
alter table supabase_migrations.schema_migrations add column if not exists statements text[];
alter table supabase_migrations.schema_migrations add column if not exists name text
