-- webhooks/endpoint_delete: Deletes one of the calling user's endpoints (its deliveries cascade); no row if not theirs.
delete from public.webhook_endpoints where id = %(endpoint_id)s::uuid returning id
