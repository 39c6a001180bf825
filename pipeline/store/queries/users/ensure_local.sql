-- users/ensure_local: The local developer's user on the embedded database (auth.users comes from supabase_compat.sql).
insert into auth.users (id, email) values (%(user_id)s, %(email)s)
on conflict (id) do nothing
