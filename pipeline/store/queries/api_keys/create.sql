-- api_keys/create: A new key of the user (as the service): only its hash and first characters are stored.
insert into public.api_keys (user_id, name, prefix, secret_hash)
values (%(user_id)s, %(name)s, %(prefix)s, %(secret_hash)s)
returning id, name, prefix, created_at, last_used_at, revoked_at
