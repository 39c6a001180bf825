-- credits/settle: Charges a hold's actual cost and returns the rest; returns the hold.
select * from public.settle_hold(%(hold_id)s::uuid, %(actual)s::bigint)
