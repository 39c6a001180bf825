-- migrations/table_exists: Whether the migrations table exists yet.
select to_regclass('reelforge.schema_migrations') is not null as present
