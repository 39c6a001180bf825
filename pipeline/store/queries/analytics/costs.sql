-- analytics/costs: Every creative of the user with its job's settled credits and the lengths of the job's outputs.
select c.creative_id,
       c.template,
       c.job_id,
       (select sum(h.settled_amount)::bigint
          from public.credit_holds h
         where h.job_id = c.job_id and h.user_id = c.user_id and h.status = 'settled')
         as job_credits,
       (select r.duration_s
          from public.renders r
         where r.job_id = c.job_id and r.user_id = c.user_id and r.format = c.format)
         as duration_s,
       coalesce(
         (select array_agg(r.duration_s order by r.format)
            from public.renders r
           where r.job_id = c.job_id and r.user_id = c.user_id),
         '{}'
       ) as job_durations
from public.creatives c
where c.user_id = %(user_id)s
order by c.template, c.creative_id
