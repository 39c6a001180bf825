-- webhooks/endpoint_enable: Re-enables one of the calling user's endpoints and clears its failure count and reason.
update public.webhook_endpoints
set enabled = true, disabled_reason = null, disabled_at = null, failed_deliveries_in_row = 0,
  updated_at = now()
where id = %(endpoint_id)s::uuid
returning *
