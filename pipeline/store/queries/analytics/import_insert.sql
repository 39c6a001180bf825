-- analytics/import_insert: What one import did: rows read, inserted, replaced, unchanged, and the rows that matched nothing.
insert into public.analytics_imports (
  id, user_id, source, file_name, file_hash, rows_read, imported, updated, unchanged, unmatched,
  unmatched_rows
)
values (
  %(id)s, %(user_id)s, %(source)s, %(file_name)s, %(file_hash)s, %(rows_read)s, %(imported)s,
  %(updated)s, %(unchanged)s, %(unmatched)s, %(unmatched_rows)s
)
