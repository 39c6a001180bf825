-- migrations/list: The applied migrations, oldest first.
select version, name, checksum, applied_at from reelforge.schema_migrations order by version
