-- credits/release: Returns a whole hold; returns the hold.
select * from public.release_hold(%(hold_id)s::uuid)
