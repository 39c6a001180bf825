-- jobs/renders: A job's outputs, one per format (given a user, only that user's).
select format, path, width, height, duration_s, loudness_lufs, created_at
from public.renders
where job_id = %(job_id)s and (%(user_id)s::uuid is null or user_id = %(user_id)s::uuid)
order by format
