-- providers/event_record: Records a provider callback once; a duplicate (provider, event_id) returns no row.
insert into public.provider_events (provider, event_id, payload, subject, occurred_at, job_id)
values (
  %(provider)s::text, %(event_id)s::text, %(payload)s::jsonb, %(subject)s::text,
  %(occurred_at)s::timestamptz, %(job_id)s::uuid
)
on conflict (provider, event_id) do nothing
returning id
