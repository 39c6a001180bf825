-- analytics/creative_upsert: Records one rendered output's creative, updated in place when rendered again.
-- Its job (whose settled credits are its production cost) is the latest final render's: a
-- preview is a draft, not the ad that runs, so it links a creative to its job only when nothing
-- has yet.
insert into public.creatives as c (
  user_id, creative_id, job_id, project_id, sku, product, template, duration_s, duration_bucket,
  palette_colour, voice, caption_style, hook, format, script_option, ad_name, landing_url
)
values (
  %(user_id)s, %(creative_id)s, %(job_id)s, %(project_id)s, %(sku)s, %(product)s, %(template)s,
  %(duration_s)s, %(duration_bucket)s, %(palette_colour)s, %(voice)s, %(caption_style)s, %(hook)s,
  %(format)s, %(script_option)s, %(ad_name)s, %(landing_url)s
)
on conflict (user_id, creative_id) do update set
  job_id = case when %(preview)s then coalesce(c.job_id, excluded.job_id)
                else coalesce(excluded.job_id, c.job_id) end,
  project_id = coalesce(excluded.project_id, c.project_id),
  sku = excluded.sku,
  product = excluded.product,
  template = excluded.template,
  duration_s = excluded.duration_s,
  duration_bucket = excluded.duration_bucket,
  palette_colour = excluded.palette_colour,
  voice = excluded.voice,
  caption_style = excluded.caption_style,
  hook = excluded.hook,
  format = excluded.format,
  script_option = excluded.script_option,
  ad_name = excluded.ad_name,
  landing_url = excluded.landing_url,
  updated_at = now()
