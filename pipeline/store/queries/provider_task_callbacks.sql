-- Callbacks recorded for one provider task, oldest first (StoreInbox).
select payload
from public.provider_events
where provider = %(provider)s::text and subject = %(subject)s::text
order by id
