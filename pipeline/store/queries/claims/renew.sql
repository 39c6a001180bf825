-- claims/renew: Extends the owner's lease on its pending claim; no row if it no longer holds it.
update public.generation_claims
set lease_expires_at = now() + make_interval(secs => %(lease_seconds)s::int), updated_at = now()
where key = %(key)s::text and owner = %(owner)s::text and state = 'pending'
returning key
