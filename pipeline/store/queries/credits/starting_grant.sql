-- credits/starting_grant: The credits a new user is granted (0: none), from the one row of app_config.
select starting_grant from public.app_config where id
