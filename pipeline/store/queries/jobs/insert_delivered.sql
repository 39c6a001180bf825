-- jobs/insert_delivered: A render job that already ran to delivery (command-line renders run outside the queue).
insert into public.jobs (user_id, project_id, kind, payload, state, progress, attempts, checkpoints, finished_at)
values (%(user_id)s, %(project_id)s, 'render', %(payload)s, 'delivered', 1, 1, %(checkpoints)s, now())
returning id
