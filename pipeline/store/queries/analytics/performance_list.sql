-- analytics/performance_list: The caller's imported performance rows, by creative and period.
select source, creative_id, ad_key, ad_name, period_start, period_end, placement, currency,
       impressions, clicks, spend, purchases, revenue, video_3s_plays, thruplays
from public.ad_performance
order by creative_id, period_start, period_end, source, ad_key, placement
