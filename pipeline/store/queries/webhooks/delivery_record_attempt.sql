-- webhooks/delivery_record_attempt: Records an attempt's result: delivered, retried at next_attempt_at, or failed (maybe disabling).
select * from public.record_webhook_attempt(
  %(delivery_id)s::uuid, %(worker)s::text, %(status_code)s::integer, %(error)s::text,
  %(next_attempt_at)s::timestamptz, %(now)s::timestamptz, %(disable_after)s::integer
)
