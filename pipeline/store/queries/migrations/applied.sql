-- migrations/applied: Whether one migration version is already applied.
select 1 from reelforge.schema_migrations where version = %(version)s
