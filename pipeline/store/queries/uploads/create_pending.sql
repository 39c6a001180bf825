-- uploads/create_pending: A signed upload begun: the kind and the staging key the browser will write to.
insert into public.uploads (user_id, kind, state, key, original_name)
values (%(user_id)s, %(kind)s, 'pending', %(key)s, %(original_name)s)
returning id, user_id, kind, state, key, sha256, size, content_type, original_name, created_at
