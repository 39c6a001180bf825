-- credits/set_starting_grant: Sets the credits a new user is granted (0 turns the grant off); the CHECK bounds it.
update public.app_config set starting_grant = %(amount)s::bigint, updated_at = now()
where id
returning starting_grant
