-- projects/using: The caller's projects whose brief names this value anywhere (an upload reference), except one.
select id
from public.projects
where user_id = %(user_id)s
  and (%(except_id)s::uuid is null or id <> %(except_id)s::uuid)
  and jsonb_path_exists(brief, '$.** ? (@ == $ref)', jsonb_build_object('ref', %(ref)s::text))
order by created_at
