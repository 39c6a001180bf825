-- billing/record: Records a payment event once per (provider, event id) and credits its purchase once per checkout session, in one transaction.
select (r.event).*, r.duplicate
from public.record_billing_event(
  %(provider)s::text, %(event_id)s::text, %(event_type)s::text, %(livemode)s::boolean,
  %(checkout_session)s::text, %(client_reference_id)s::text, %(user_id)s::uuid,
  %(credits)s::bigint, %(amount_total)s::bigint, %(currency)s::text, %(outcome)s::text,
  %(detail)s::text
) r
