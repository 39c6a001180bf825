-- migrations/supabase_history_record: Records a migration in the Supabase CLI's history as the CLI would; a version already there is left alone.
insert into supabase_migrations.schema_migrations (version, name, statements)
values (%(version)s, %(name)s, %(statements)s::text[])
on conflict (version) do nothing
