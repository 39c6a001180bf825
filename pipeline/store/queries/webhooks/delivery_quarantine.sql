-- webhooks/delivery_quarantine: Fails a delivery that cannot be attempted and disables its endpoint, both with the reason.
select * from public.quarantine_webhook_delivery(
  %(delivery_id)s::uuid, %(worker)s::text, %(reason)s::text, %(now)s::timestamptz
)
