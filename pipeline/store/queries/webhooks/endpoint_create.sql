-- webhooks/endpoint_create: Adds a webhook endpoint for the calling user (run as the user: RLS sets and checks user_id).
insert into public.webhook_endpoints (url, secret, events)
values (%(url)s::text, %(secret)s::text, %(events)s::text[])
returning *
