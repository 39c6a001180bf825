"""Every output of a render gets its creative: the identity the performance reports join on."""

from __future__ import annotations

from pipeline.creative import (
    HOOK_MAX,
    UTM_SOURCES,
    CreativeAttributes,
    ad_name,
    campaign_slug,
    creative_id,
    duration_bucket,
    landing_url,
)
from pipeline.manifest import Manifest, OutputEntry

__all__ = ["creative_for", "with_creatives"]


def creative_for(
    manifest: Manifest, entry: OutputEntry, *, caption_style: str
) -> CreativeAttributes:
    """The creative of one output of a render."""
    script = manifest.script
    product = manifest.brief["product"]
    cid = creative_id(manifest.brief_hash, manifest.script_hash, entry.format)
    voiced = bool(manifest.voice)
    first = script.scenes[0]
    # What the viewer meets first: the spoken line when there is a voice, else the words on screen.
    hook = (first.voiceover if voiced else "") or first.on_screen_text or script.hook
    # The bucket is the length the brief asked for: the container's probed length drifts a few
    # milliseconds past it (a 30 s ad lasts 30.021 s), which would move it across the boundary.
    nominal = manifest.brief.get("duration")
    length = float(nominal) if isinstance(nominal, int | float) else entry.duration
    return CreativeAttributes(
        creative_id=cid,
        sku=manifest.sku,
        product=str(product["name"]),
        template=manifest.template,
        duration_s=entry.duration,
        duration_bucket=duration_bucket(length),
        palette_colour=manifest.palette.dominant.name,
        voice="on" if voiced else "off",
        caption_style=caption_style,
        hook=" ".join(hook.split())[:HOOK_MAX],
        format=entry.format,
        script_option=manifest.chosen_option,
        ad_name=ad_name(
            sku=manifest.sku,
            template=manifest.template,
            fmt=entry.format,
            option=manifest.chosen_option,
            creative=cid,
        ),
        landing_url=landing_url(
            str(product["url"]),
            source=UTM_SOURCES.get(entry.format, "paid"),
            campaign=campaign_slug(manifest.sku),
            content=cid,
        ),
    )


def with_creatives(manifest: Manifest, *, caption_style: str) -> Manifest:
    """The manifest with every output's creative filled in."""
    outputs = tuple(
        entry.model_copy(
            update={"creative": creative_for(manifest, entry, caption_style=caption_style)}
        )
        for entry in manifest.outputs
    )
    return manifest.model_copy(update={"outputs": outputs})
