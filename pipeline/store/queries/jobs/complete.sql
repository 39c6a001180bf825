-- jobs/complete: Finishes a leased job as delivered or awaiting_review.
select * from public.complete_job(%(job_id)s::uuid, %(worker)s::text, %(state)s::public.job_state)
