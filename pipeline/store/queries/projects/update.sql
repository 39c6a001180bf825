-- projects/update: Edits a project if nobody changed it since it was read (updated_at as the version).
update public.projects
set name = %(name)s, brief = %(brief)s, script_options = %(script_options)s,
    chosen_script = %(chosen_script)s, updated_at = clock_timestamp()
where id = %(id)s and user_id = %(user_id)s and updated_at = %(seen)s
returning id, name, status, brief, script_options, chosen_script, created_at, updated_at
