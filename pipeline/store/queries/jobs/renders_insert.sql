-- jobs/renders_insert: One published output of a job, with its QC results; once per format.
-- A resumed job that publishes the same format again changes nothing (and returns no id).
insert into public.renders (user_id, job_id, format, path, width, height, duration_s, loudness_lufs, qc)
values (%(user_id)s, %(job_id)s, %(format)s, %(path)s, %(width)s, %(height)s, %(duration_s)s,
        %(loudness_lufs)s, %(qc)s)
on conflict (job_id, format) do nothing
returning id
