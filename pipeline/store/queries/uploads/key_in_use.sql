-- uploads/key_in_use: Whether another upload of the user still names this blob key.
select exists (select 1 from public.uploads where user_id = %(user_id)s and key = %(key)s)
