-- analytics/creatives_list: The caller's creatives, newest first.
select creative_id, job_id, project_id, sku, product, template, duration_s, duration_bucket,
       palette_colour, voice, caption_style, hook, format, script_option, ad_name, landing_url,
       created_at
from public.creatives
order by created_at desc, creative_id
