-- A job's outputs, one per format.
select format, path, width, height, duration_s, loudness_lufs, created_at
from public.renders
where job_id = %(job_id)s and user_id = %(user_id)s
order by format
