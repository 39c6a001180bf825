-- credits/orphan_holds: Credit holds still held by jobs that ended failed or canceled.
-- E.g. a lease expired on the last attempt, or a queued job was canceled: the worker releases
-- them.
select h.id
from public.credit_holds h
join public.jobs j on j.id = h.job_id and j.user_id = h.user_id
where h.status = 'held' and j.state in ('failed', 'canceled')
order by h.created_at
limit 100
