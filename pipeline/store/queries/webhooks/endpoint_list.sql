-- webhooks/endpoint_list: The calling user's webhook endpoints, oldest first, with their disabled state and reason.
select * from public.webhook_endpoints order by created_at, id
