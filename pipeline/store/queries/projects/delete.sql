-- projects/delete: Deletes the project row (its creatives keep their history, unlinked).
delete from public.projects where id = %(id)s and user_id = %(user_id)s
