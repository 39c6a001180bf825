-- server/database_exists: Whether a database of this name exists on the server.
select 1 from pg_catalog.pg_database where datname = %(name)s
