-- analytics/performance_upsert: One reporting row, inserted, replaced if changed, else left alone.
-- Keyed by (user, source, creative, ad, period, placement): a new key is inserted, a known one
-- is replaced when its numbers changed and left alone (no row returned) when not.
insert into public.ad_performance as p (
  user_id, creative_id, source, ad_key, period_start, period_end, placement, ad_name, currency,
  impressions, clicks, spend, purchases, revenue, video_3s_plays, thruplays, import_id
)
values (
  %(user_id)s, %(creative_id)s, %(source)s, %(ad_key)s, %(period_start)s, %(period_end)s,
  %(placement)s, %(ad_name)s, %(currency)s, %(impressions)s, %(clicks)s, %(spend)s, %(purchases)s,
  %(revenue)s, %(video_3s_plays)s, %(thruplays)s, %(import_id)s
)
on conflict (user_id, source, creative_id, ad_key, period_start, period_end, placement) do update set
  ad_name = excluded.ad_name,
  currency = excluded.currency,
  impressions = excluded.impressions,
  clicks = excluded.clicks,
  spend = excluded.spend,
  purchases = excluded.purchases,
  revenue = excluded.revenue,
  video_3s_plays = excluded.video_3s_plays,
  thruplays = excluded.thruplays,
  import_id = excluded.import_id,
  imported_at = now()
where (p.ad_name, p.currency, p.impressions, p.clicks, p.spend, p.purchases, p.revenue,
       p.video_3s_plays, p.thruplays)
  is distinct from (excluded.ad_name, excluded.currency, excluded.impressions, excluded.clicks,
                    excluded.spend, excluded.purchases, excluded.revenue, excluded.video_3s_plays,
                    excluded.thruplays)
returning (xmax = 0) as inserted
