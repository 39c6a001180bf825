-- analytics/performance_periods: The caller's stored rows that an import must not count again.
-- Rows of these creatives, from these sources, that touch the date range.
select creative_id, source, ad_key, period_start, period_end, placement, currency
from public.ad_performance
where creative_id = any(%(ids)s)
  and source = any(%(sources)s)
  and period_start <= %(until)s
  and period_end >= %(since)s
