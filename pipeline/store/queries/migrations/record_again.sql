-- migrations/record_again: Records a script that runs again whenever it changes (the compatibility script).
insert into reelforge.schema_migrations (version, name, checksum)
values (%(version)s, %(name)s, %(checksum)s)
on conflict (version) do update
  set name = excluded.name, checksum = excluded.checksum, applied_at = now()
