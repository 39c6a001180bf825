-- credits/job_hold: The credit hold of a job (the worker takes one per job), newest first.
select id, user_id, job_id, amount, status, settled_amount, idempotency_key, created_at, resolved_at
from public.credit_holds
where job_id = %(job_id)s and user_id = %(user_id)s
order by created_at desc
limit 1
