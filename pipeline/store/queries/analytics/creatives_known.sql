-- analytics/creatives_known: Which of these creative ids the caller has (RLS keeps it to the caller's own).
select creative_id from public.creatives where creative_id = any(%(ids)s)
