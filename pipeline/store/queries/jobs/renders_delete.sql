-- jobs/renders_delete: Unpublishes the outputs of a job that ended canceled or failed.
delete from public.renders r
using public.jobs j
where r.job_id = %(job_id)s and j.id = r.job_id and j.state in ('canceled', 'failed')
