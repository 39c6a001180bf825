-- projects/insert: A new project from the API, with its script options written; RLS checks user_id is the caller.
insert into public.projects (user_id, name, brief, script_options, status)
values (%(user_id)s, %(name)s, %(brief)s, %(script_options)s, 'scripted')
returning id, name, status, brief, script_options, chosen_script, created_at, updated_at
