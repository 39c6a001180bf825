-- webhooks/delivery_claim: Claims up to limit due deliveries under a lease within the per-endpoint and per-tenant caps, in claim order, with their endpoints' URLs and live signing secrets.
select d.*, e.url, e.secret,
  case when e.previous_secret_expires_at > %(now)s::timestamptz then e.previous_secret end
    as previous_secret
from public.claim_webhook_deliveries(
  %(worker)s::text, %(now)s::timestamptz, %(lease_seconds)s::integer, %(limit)s::integer,
  %(per_endpoint)s::integer, %(per_tenant)s::integer
) with ordinality as d
join public.webhook_endpoints as e on e.id = d.endpoint_id
order by d.ordinality
