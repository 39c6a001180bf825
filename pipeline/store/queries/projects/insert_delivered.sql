-- projects/insert_delivered: A project for a finished command-line render: the brief, every script option and the chosen one.
insert into public.projects (user_id, name, brief, script_options, chosen_script, status)
values (%(user_id)s, %(name)s, %(brief)s, %(script_options)s, %(chosen_script)s, 'delivered')
returning id
