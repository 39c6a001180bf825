-- Deleting a user. Supabase Auth deletes one with `delete from auth.users` as its own role,
-- supabase_auth_admin (the dashboard, auth.admin.deleteUser()), and the foreign keys to
-- auth.users cascade from there; until now the append-only ledger and job events refused it.
--
-- What is personal goes with the user: brand kits, projects and briefs, jobs with their
-- payloads, events and outputs, assets, creatives, performance rows and imports, webhook
-- endpoints and deliveries, idempotency keys (by the existing cascades), and the provider
-- callbacks of the user's jobs (a trigger below).
--
-- The money history stays, anonymised. Closing the account releases the holds still held and
-- forfeits the balance with an 'account closed' entry, so the account's entries sum to zero;
-- then every ledger entry and hold loses what pointed at the person (user id, job, idempotency
-- keys, which may embed ids) and gets one random closed_account id per account, so the history
-- still adds up per closed account, and the whole ledger to the remaining balances.
--
-- A cascade runs as the owner of the referencing table, with RLS not applied, so the Auth role
-- needs no grant here. The exceptions to append-only hold only for a user who no longer exists
-- in auth.users, which nothing but deleting the user achieves.

-- No cascade may reach the money tables: a hold outlives its job (the key sets the job null),
-- and holds and ledger entries are never deleted with their account or hold (plain keys, which
-- refuse; the account's trigger below anonymises them before the account row goes).
alter table public.credit_holds
  drop constraint credit_holds_job_id_user_id_fkey,
  add constraint credit_holds_job_id_user_id_fkey foreign key (job_id, user_id)
    references public.jobs (id, user_id) on delete set null (job_id),
  drop constraint credit_holds_user_id_fkey,
  add constraint credit_holds_user_id_fkey foreign key (user_id)
    references public.credit_accounts (user_id);
alter table public.credit_ledger
  drop constraint credit_ledger_user_id_fkey,
  add constraint credit_ledger_user_id_fkey foreign key (user_id)
    references public.credit_accounts (user_id),
  drop constraint credit_ledger_hold_id_user_id_fkey,
  add constraint credit_ledger_hold_id_user_id_fkey foreign key (hold_id, user_id)
    references public.credit_holds (id, user_id);

-- An anonymised row has no user and the id of its closed account; a held hold always has a user.
alter table public.credit_ledger
  alter column user_id drop not null,
  add column closed_account uuid,
  add constraint credit_ledger_owner check ((user_id is null) = (closed_account is not null));
alter table public.credit_holds
  alter column user_id drop not null,
  add column closed_account uuid,
  add constraint credit_holds_owner check (
    (user_id is null) = (closed_account is not null) and (user_id is not null or status <> 'held')
  );
create index credit_ledger_closed on public.credit_ledger (closed_account, id)
  where closed_account is not null;

-- Whether a user id no longer names a user: the one condition under which history may change.
create function public.user_is_gone(p_user uuid) returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select p_user is not null and not exists (select 1 from auth.users where id = p_user);
$$;

-- The ledger is append-only, except the anonymisation of a deleted user's entries: user id and
-- idempotency key cleared, the closed account's id set, nothing else changed.
create function public.credit_ledger_guard() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and old.user_id is not null and new.user_id is null
     and new.closed_account is not null and new.idempotency_key is null
     and (new.id, new.delta, new.balance_after, new.reason, new.hold_id, new.created_at)
         is not distinct from
         (old.id, old.delta, old.balance_after, old.reason, old.hold_id, old.created_at)
     and public.user_is_gone(old.user_id) then
    return new;
  end if;
  raise exception '% is append-only', tg_table_name using errcode = '42501';
end
$$;

-- Job events are append-only, except that they go with their deleted user.
create function public.job_events_guard() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' and public.user_is_gone(old.user_id) then
    return old;
  end if;
  raise exception '% is append-only', tg_table_name using errcode = '42501';
end
$$;

drop trigger credit_ledger_append_only on public.credit_ledger;
drop trigger job_events_append_only on public.job_events;
create trigger credit_ledger_append_only before update or delete on public.credit_ledger
  for each row execute function public.credit_ledger_guard();
create trigger job_events_append_only before update or delete on public.job_events
  for each row execute function public.job_events_guard();

-- Closes a deleted user's credit account as the account row goes: held holds are released,
-- the balance is forfeited, and the ledger and holds are anonymised under one closed-account
-- id. Deleting the account of a user who still exists is refused: history is never dropped.
create function public.close_credit_account() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_closed uuid := gen_random_uuid();
  v_balance bigint := old.balance;
  v_hold public.credit_holds;
begin
  if not public.user_is_gone(old.user_id) then
    raise exception 'the credit account of user % closes only when the user is deleted',
      old.user_id using errcode = '42501';
  end if;
  -- The ledger first: its key to the holds includes the user id that is about to go.
  update public.credit_ledger set user_id = null, idempotency_key = null, closed_account = v_closed
    where user_id = old.user_id;
  for v_hold in
    update public.credit_holds
      set status = 'released', resolved_at = now(), user_id = null, job_id = null,
          idempotency_key = null, closed_account = v_closed
      where user_id = old.user_id and status = 'held'
      returning *
  loop
    v_balance := v_balance + v_hold.amount;
    insert into public.credit_ledger (closed_account, delta, balance_after, reason, hold_id)
      values (v_closed, v_hold.amount, v_balance, 'hold released: account closed', v_hold.id);
  end loop;
  update public.credit_holds
    set user_id = null, job_id = null, idempotency_key = null, closed_account = v_closed
    where user_id = old.user_id;
  if v_balance > 0 then
    insert into public.credit_ledger (closed_account, delta, balance_after, reason)
      values (v_closed, -v_balance, 0, 'account closed');
  end if;
  return old;
end
$$;

create trigger credit_accounts_close before delete on public.credit_accounts
  for each row execute function public.close_credit_account();

-- A job's provider callbacks go with it (their payloads describe what was generated for whom).
create function public.delete_job_provider_events() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  delete from public.provider_events where job_id = old.id;
  return old;
end
$$;

create trigger jobs_provider_events before delete on public.jobs
  for each row execute function public.delete_job_provider_events();

revoke all on function public.user_is_gone(uuid), public.credit_ledger_guard(),
  public.job_events_guard(), public.close_credit_account(), public.delete_job_provider_events()
  from public, anon, authenticated;
