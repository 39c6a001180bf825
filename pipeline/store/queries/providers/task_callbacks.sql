-- providers/task_callbacks: Callbacks recorded for one provider task of one job, oldest first (StoreInbox).
select payload
from public.provider_events
where provider = %(provider)s::text and subject = %(subject)s::text
  and job_id = %(job_id)s::uuid
order by id
