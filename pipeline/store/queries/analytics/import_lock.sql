-- analytics/import_lock: Serializes one user's imports until the end of the transaction.
-- Each import checks what is already stored before it writes, and two at once could each miss
-- the other's rows.
select pg_advisory_xact_lock(hashtextextended('reelforge:analytics_import:' || %(user_id)s::text, 0))
