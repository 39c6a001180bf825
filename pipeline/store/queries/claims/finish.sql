-- claims/finish: Marks the owner's pending claim done; no row if it no longer holds it.
update public.generation_claims
set state = 'done', updated_at = now()
where key = %(key)s::text and owner = %(owner)s::text and state = 'pending'
returning key
