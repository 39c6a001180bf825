-- uploads/complete: A pending upload made ready with its checked content (scoped to the user); no row if it is not pending.
update public.uploads
set state = 'ready', key = %(key)s, sha256 = %(sha256)s, size = %(size)s,
    content_type = %(content_type)s
where id = %(id)s and user_id = %(user_id)s and state = 'pending'
returning id, user_id, kind, state, key, sha256, size, content_type, original_name, created_at
