-- jobs/claim_by_id: Claims one named job for a worker under a lease (no row when that job is not runnable).
select * from public.claim_job_by_id(%(job_id)s::uuid, %(worker)s::text, %(lease_seconds)s::integer)
