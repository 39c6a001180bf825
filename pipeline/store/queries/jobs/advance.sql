-- jobs/advance: Moves a leased job to its next stage, storing the finished stage's checkpoint.
select * from public.advance_job(%(job_id)s::uuid, %(worker)s::text, %(state)s::public.job_state, %(checkpoint)s::jsonb, %(progress)s::real)
