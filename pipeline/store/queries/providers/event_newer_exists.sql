-- providers/event_newer_exists: Whether another event about the same subject, newer than the given time, was already recorded.
select exists (
  select 1 from public.provider_events
  where provider = %(provider)s::text and subject = %(subject)s::text
    and occurred_at > %(occurred_at)s::timestamptz and event_id <> %(event_id)s::text
) as newer
