-- jobs/claim: Claims the next runnable job for a worker under a lease (no row when none is runnable).
select * from public.claim_job(%(worker)s::text, %(lease_seconds)s::integer)
