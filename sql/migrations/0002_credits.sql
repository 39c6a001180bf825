-- Credits: adjustments, holds, settlements and releases. Every change locks the account row first,
-- so one user's operations are serial, the balance never goes negative and sum(ledger) = balance.
-- Errors: 22023 bad amount or argument, RF001 insufficient credits, RF002 unknown user,
-- RF003 unknown hold, RF004 hold already resolved, RF005 actual cost above the hold.

-- Locks (creating if needed) the credit account of an existing user.
create function public.lock_credit_account(p_user uuid) returns public.credit_accounts
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_account public.credit_accounts;
begin
  if p_user is null then
    raise exception 'user id is required' using errcode = '22023';
  end if;
  select * into v_account from public.credit_accounts where user_id = p_user for update;
  if found then
    return v_account;
  end if;
  if not exists (select 1 from auth.users where id = p_user) then
    raise exception 'unknown user %', p_user using errcode = 'RF002';
  end if;
  insert into public.credit_accounts (user_id) values (p_user) on conflict (user_id) do nothing;
  select * into strict v_account from public.credit_accounts where user_id = p_user for update;
  return v_account;
end
$$;

-- Checks an amount of credits: positive and at most a billion.
create function public.check_credit_amount(p_amount bigint, p_name text) returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_amount is null or p_amount <= 0 or p_amount > 1000000000 then
    raise exception '% must be between 1 and 1000000000, got %', p_name, coalesce(p_amount::text, 'null')
      using errcode = '22023';
  end if;
end
$$;

-- Grants, purchases, refunds (positive) and corrections (negative); a repeated key returns the
-- original ledger entry and changes nothing.
create function public.safe_adjust_credits(
  p_user uuid, p_amount bigint, p_reason text, p_idempotency_key text
) returns public.credit_ledger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_account public.credit_accounts;
  v_entry public.credit_ledger;
begin
  perform public.check_credit_amount(abs(p_amount), 'amount');
  if p_reason is null or length(p_reason) not between 1 and 200 then
    raise exception 'reason must be 1 to 200 characters' using errcode = '22023';
  end if;
  if p_idempotency_key is null or length(p_idempotency_key) not between 1 and 200 then
    raise exception 'idempotency key must be 1 to 200 characters' using errcode = '22023';
  end if;
  v_account := public.lock_credit_account(p_user);
  select * into v_entry from public.credit_ledger
    where user_id = p_user and idempotency_key = p_idempotency_key;
  if found then
    return v_entry;
  end if;
  if v_account.balance + p_amount < 0 then
    raise exception 'insufficient credits: balance %, adjustment %', v_account.balance, p_amount
      using errcode = 'RF001';
  end if;
  update public.credit_accounts set balance = balance + p_amount, updated_at = now()
    where user_id = p_user returning * into v_account;
  insert into public.credit_ledger (user_id, delta, balance_after, reason, idempotency_key)
    values (p_user, p_amount, v_account.balance, p_reason, p_idempotency_key)
    returning * into v_entry;
  return v_entry;
end
$$;

-- Reserves credits before paid work; a repeated key returns the original hold.
create function public.hold_credits(
  p_user uuid, p_amount bigint, p_job uuid default null, p_idempotency_key text default null
) returns public.credit_holds
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_account public.credit_accounts;
  v_hold public.credit_holds;
begin
  perform public.check_credit_amount(p_amount, 'amount');
  v_account := public.lock_credit_account(p_user);
  if p_idempotency_key is not null then
    select * into v_hold from public.credit_holds
      where user_id = p_user and idempotency_key = p_idempotency_key;
    if found then
      return v_hold;
    end if;
  end if;
  if p_job is not null and not exists (
    select 1 from public.jobs where id = p_job and user_id = p_user
  ) then
    raise exception 'unknown job % for user %', p_job, p_user using errcode = '22023';
  end if;
  if v_account.balance < p_amount then
    raise exception 'insufficient credits: balance %, needed %', v_account.balance, p_amount
      using errcode = 'RF001';
  end if;
  update public.credit_accounts set balance = balance - p_amount, updated_at = now()
    where user_id = p_user returning * into v_account;
  insert into public.credit_holds (user_id, job_id, amount, idempotency_key)
    values (p_user, p_job, p_amount, p_idempotency_key)
    returning * into v_hold;
  insert into public.credit_ledger (user_id, delta, balance_after, reason, hold_id)
    values (p_user, -p_amount, v_account.balance, 'hold', v_hold.id);
  return v_hold;
end
$$;

-- Locks a hold and its account; shared by settle and release.
create function public.lock_credit_hold(p_hold uuid) returns public.credit_holds
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_hold public.credit_holds;
begin
  if p_hold is null then
    raise exception 'hold id is required' using errcode = '22023';
  end if;
  -- Account first, as hold_credits does, so the two never deadlock.
  perform 1 from public.credit_accounts a
    where a.user_id = (select h.user_id from public.credit_holds h where h.id = p_hold)
    for update;
  select * into v_hold from public.credit_holds where id = p_hold for update;
  if not found then
    raise exception 'unknown hold %', p_hold using errcode = 'RF003';
  end if;
  return v_hold;
end
$$;

-- Charges the actual cost of a held job and returns the rest. Settling again with the same
-- actual cost returns the settled hold; anything else on a resolved hold is an error.
create function public.settle_hold(p_hold uuid, p_actual bigint) returns public.credit_holds
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_hold public.credit_holds;
  v_balance bigint;
begin
  if p_actual is null or p_actual < 0 then
    raise exception 'actual cost must be 0 or more, got %', coalesce(p_actual::text, 'null')
      using errcode = '22023';
  end if;
  v_hold := public.lock_credit_hold(p_hold);
  if v_hold.status = 'settled' and v_hold.settled_amount = p_actual then
    return v_hold;
  end if;
  if v_hold.status <> 'held' then
    raise exception 'hold % is already %', p_hold, v_hold.status using errcode = 'RF004';
  end if;
  if p_actual > v_hold.amount then
    raise exception 'actual cost % exceeds hold % of %', p_actual, p_hold, v_hold.amount
      using errcode = 'RF005';
  end if;
  update public.credit_holds
    set status = 'settled', settled_amount = p_actual, resolved_at = now()
    where id = p_hold returning * into v_hold;
  if v_hold.amount > p_actual then
    update public.credit_accounts set balance = balance + (v_hold.amount - p_actual), updated_at = now()
      where user_id = v_hold.user_id returning balance into v_balance;
    insert into public.credit_ledger (user_id, delta, balance_after, reason, hold_id)
      values (v_hold.user_id, v_hold.amount - p_actual, v_balance, 'hold remainder', p_hold);
  end if;
  return v_hold;
end
$$;

-- Returns a whole hold (failed or canceled job). Releasing a released hold returns it unchanged.
create function public.release_hold(p_hold uuid) returns public.credit_holds
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_hold public.credit_holds;
  v_balance bigint;
begin
  v_hold := public.lock_credit_hold(p_hold);
  if v_hold.status = 'released' then
    return v_hold;
  end if;
  if v_hold.status <> 'held' then
    raise exception 'hold % is already %', p_hold, v_hold.status using errcode = 'RF004';
  end if;
  update public.credit_holds set status = 'released', resolved_at = now()
    where id = p_hold returning * into v_hold;
  update public.credit_accounts set balance = balance + v_hold.amount, updated_at = now()
    where user_id = v_hold.user_id returning balance into v_balance;
  insert into public.credit_ledger (user_id, delta, balance_after, reason, hold_id)
    values (v_hold.user_id, v_hold.amount, v_balance, 'hold released', p_hold);
  return v_hold;
end
$$;

revoke all on function public.lock_credit_account(uuid), public.check_credit_amount(bigint, text),
  public.safe_adjust_credits(uuid, bigint, text, text), public.hold_credits(uuid, bigint, uuid, text),
  public.lock_credit_hold(uuid), public.settle_hold(uuid, bigint), public.release_hold(uuid)
  from public, anon, authenticated;
grant execute on function public.safe_adjust_credits(uuid, bigint, text, text),
  public.hold_credits(uuid, bigint, uuid, text), public.settle_hold(uuid, bigint),
  public.release_hold(uuid)
  to service_role;
