-- api_keys/authenticate: The active key with this hash and its owner; marks it used, at most once a minute so busy keys do not contend on one row.
with found as (
  select id, user_id, secret_hash, last_used_at
  from public.api_keys
  where secret_hash = %(secret_hash)s and revoked_at is null
), touched as (
  update public.api_keys k set last_used_at = now()
  from found
  where k.id = found.id
    and (found.last_used_at is null or found.last_used_at < now() - interval '60 seconds')
  returning k.id
)
select id, user_id, secret_hash from found
