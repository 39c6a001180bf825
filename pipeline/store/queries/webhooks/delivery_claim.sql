-- webhooks/delivery_claim: Claims the next due delivery under a lease, with its endpoint's URL and live signing secrets.
select d.*, e.url, e.secret,
  case when e.previous_secret_expires_at > %(now)s::timestamptz then e.previous_secret end
    as previous_secret
from public.claim_webhook_delivery(
  %(worker)s::text, %(now)s::timestamptz, %(lease_seconds)s::integer
) as d
join public.webhook_endpoints as e on e.id = d.endpoint_id
