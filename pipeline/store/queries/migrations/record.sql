-- migrations/record: Records one applied migration.
insert into reelforge.schema_migrations (version, name, checksum)
values (%(version)s, %(name)s, %(checksum)s)
