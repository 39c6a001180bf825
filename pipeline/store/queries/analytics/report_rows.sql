-- analytics/report_rows: The user's imported performance rows, for the report (every currency: the report picks one).
select source, creative_id, ad_key, ad_name, period_start, period_end, placement, currency,
       impressions, clicks, spend, purchases, revenue, video_3s_plays, thruplays
from public.ad_performance
where user_id = %(user_id)s
order by creative_id, period_start, source, ad_key, placement
