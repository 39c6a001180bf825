-- claims/fail: Releases the owner's pending claim as failed; no row if it no longer holds it.
update public.generation_claims
set state = 'failed', error = %(error)s::text, updated_at = now()
where key = %(key)s::text and owner = %(owner)s::text and state = 'pending'
returning key
