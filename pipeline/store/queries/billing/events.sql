-- billing/events: Recorded payment events, newest first, optionally of one checkout session.
select b.*, false as duplicate
from public.billing_events b
where %(checkout_session)s::text is null or b.checkout_session = %(checkout_session)s::text
order by b.id desc
limit %(limit)s
