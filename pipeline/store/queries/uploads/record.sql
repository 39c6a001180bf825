-- uploads/record: A checked upload recorded as ready (as the service); the same bytes of the same kind already recorded: nothing inserted, no row returned.
insert into public.uploads (user_id, kind, state, key, sha256, size, content_type, original_name)
values (%(user_id)s, %(kind)s, 'ready', %(key)s, %(sha256)s, %(size)s, %(content_type)s,
        %(original_name)s)
on conflict (user_id, kind, sha256) where state = 'ready' do nothing
returning id, user_id, kind, state, key, sha256, size, content_type, original_name, created_at
