-- The outputs already recorded for a job, by format.
select format, path, duration_s from public.renders where job_id = %(job_id)s order by format
