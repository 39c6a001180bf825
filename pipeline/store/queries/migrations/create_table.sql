-- migrations/create_table: The table of applied migrations, in a private schema no API role can see.
create schema if not exists reelforge;
create table if not exists reelforge.schema_migrations (
  version text primary key,
  name text not null,
  checksum text not null,
  applied_at timestamptz not null default now()
);
revoke all on schema reelforge from public;
revoke all on table reelforge.schema_migrations from public
