-- webhooks/endpoint_rotate_secret: Replaces an endpoint's secret; the old one keeps signing alongside it for the grace period (unless it was never a valid whsec_ secret).
update public.webhook_endpoints
set previous_secret = case when public.is_webhook_secret(secret) then secret end,
  previous_secret_expires_at = case
    when public.is_webhook_secret(secret)
      then now() + make_interval(secs => %(grace_seconds)s::integer)
  end,
  secret = %(secret)s::text,
  updated_at = now()
where id = %(endpoint_id)s::uuid
returning *
