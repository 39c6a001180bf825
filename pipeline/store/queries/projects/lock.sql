-- projects/lock: Locks one of the user's projects for deletion; its brief.
select brief from public.projects
where id = %(id)s and user_id = %(user_id)s
for update
