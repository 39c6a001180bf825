-- claims/acquire: Claims a generation for an owner; no row while another owner's lease runs.
-- A new key, one finished or failed, one whose lease ran out, or one the owner holds already.
insert into public.generation_claims as c (key, owner, lease_expires_at)
values (%(key)s::text, %(owner)s::text, now() + make_interval(secs => %(lease_seconds)s::int))
on conflict (key) do update
  set owner = excluded.owner, state = 'pending', lease_expires_at = excluded.lease_expires_at,
      attempts = c.attempts + (c.owner <> excluded.owner)::int, error = null, updated_at = now()
  where c.state <> 'pending' or c.lease_expires_at <= now() or c.owner = excluded.owner
returning c.key
