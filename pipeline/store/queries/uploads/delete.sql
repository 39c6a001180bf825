-- uploads/delete: Deletes one of the user's uploads (as the service, scoped to the user); the row as it was.
delete from public.uploads
where id = %(id)s and user_id = %(user_id)s
returning id, user_id, kind, state, key, sha256, size, content_type, original_name, created_at
