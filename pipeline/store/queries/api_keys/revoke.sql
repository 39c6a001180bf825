-- api_keys/revoke: Revokes one of the user's active keys (as the service, scoped to the user): it stops working at once.
update public.api_keys set revoked_at = now()
where id = %(id)s and user_id = %(user_id)s and revoked_at is null
returning id
