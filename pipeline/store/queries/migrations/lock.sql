-- migrations/lock: Serializes migration runners until the end of the transaction.
select pg_advisory_xact_lock(7383301122)
