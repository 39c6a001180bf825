-- users/admit: Whether a valid token's user is known, adding them where reelforge owns auth.users (admit_user, 0016).
select public.admit_user(%(user_id)s, %(email)s) as known
