-- The user of a valid token. On Supabase every token's subject is a row of auth.users (Supabase
-- Auth writes it at sign-up), so an unknown subject is a user deleted since the token was issued:
-- refused, never added (Supabase Auth owns that table). Elsewhere (the embedded database, a plain
-- PostgreSQL with supabase_compat.sql, whose tokens come from another issuer or `reelforge
-- token`) auth.users is reelforge's own: the user is added on their first valid token, with the
-- starting grant of the insert trigger (0012), as a sign-up would. Whether this is Supabase is
-- the role test of `reelforge db migrate` (pipeline/store/queries/migrations/is_supabase.sql).

create function public.admit_user(p_user uuid, p_email text) returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
  if p_user is null then
    return false;
  end if;
  if exists (select 1 from auth.users where id = p_user) then
    return true;
  end if;
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'supabase_admin') then
    return false;
  end if;
  insert into auth.users (id, email) values (p_user, left(p_email, 320))
  on conflict (id) do nothing;
  return true;
end
$$;

revoke all on function public.admit_user(uuid, text) from public, anon, authenticated;
grant execute on function public.admit_user(uuid, text) to service_role;
