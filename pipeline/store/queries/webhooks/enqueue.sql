-- webhooks/enqueue: Writes one pending delivery per subscribed enabled endpoint, in the caller's transaction.
select * from public.enqueue_webhook(
  %(user_id)s::uuid, %(event_type)s::text, %(payload)s::jsonb, %(webhook_id)s::text
)
