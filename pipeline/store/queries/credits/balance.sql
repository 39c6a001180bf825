-- credits/balance: A user's credit balance (no account means 0).
select coalesce((select balance from public.credit_accounts where user_id = %(user_id)s), 0) as balance
