-- webhooks/deliveries_list: The calling user's deliveries, newest first, optionally for one endpoint.
select * from public.webhook_deliveries
where %(endpoint_id)s::uuid is null or endpoint_id = %(endpoint_id)s::uuid
order by created_at desc, id
limit %(limit)s::integer
