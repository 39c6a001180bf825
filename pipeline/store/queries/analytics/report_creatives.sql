-- analytics/report_creatives: The user's creatives with the attributes the performance report compares.
select creative_id, sku, product, template, duration_s, duration_bucket, palette_colour, voice,
       caption_style, hook, format, script_option, ad_name, landing_url
from public.creatives
where user_id = %(user_id)s
order by creative_id
