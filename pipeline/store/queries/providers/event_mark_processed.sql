-- providers/event_mark_processed: Marks a recorded provider event as handled.
update public.provider_events set processed_at = now()
where provider = %(provider)s::text and event_id = %(event_id)s::text and processed_at is null
returning id
