-- webhooks/endpoint_rotate_secret: Replaces an endpoint's secret; the old one keeps signing alongside it for the grace period.
update public.webhook_endpoints
set previous_secret = secret,
  previous_secret_expires_at = now() + make_interval(secs => %(grace_seconds)s::integer),
  secret = %(secret)s::text,
  updated_at = now()
where id = %(endpoint_id)s::uuid
returning *
