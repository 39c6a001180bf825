"""Creative identity: a stable id for every rendered output, its tagged landing URL, its ad name
and the attributes the reports compare (``pipeline.render.creatives`` fills them in from a
render's manifest).

- ``creative_id``: ``rf-`` and 12 hex digits of SHA-256 over (brief hash, script hash, format),
  so rendering the same inputs again (a retry, a preview then the final) gives the same id, and
  an edited script is a new creative.
- Landing URL: the product URL with ``utm_source`` (by format, see ``UTM_SOURCES``),
  ``utm_medium=paid_social``, ``utm_campaign`` (the project's slug: the SKU, lowercased, since a
  render is one product's project and is given a database id only when recorded) and
  ``utm_content`` = the creative id. Other query parameters of the product URL are kept.
- Ad name: ``<SKU>_<template>_<format>_o<option>_<creative id>``, ASCII, so both the platforms'
  exports (which carry the ad name) and landing-page analytics (``utm_content``) carry the id.
- Duration: ``duration_s`` is the output's probed length, ``duration_bucket`` that of the brief's
  nominal duration (what was asked for, not the container's few milliseconds of drift).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CREATIVE_ID",
    "UTM_MEDIUM",
    "UTM_SOURCES",
    "CreativeAttributes",
    "ad_name",
    "campaign_slug",
    "creative_id",
    "creative_ids_in",
    "duration_bucket",
    "landing_url",
]

# Where each format is usually placed first. A 9:16 ad also runs on TikTok and YouTube Shorts:
# pass ``source=`` to ``landing_url`` when uploading it there, so clicks are told apart.
UTM_SOURCES: Mapping[str, str] = MappingProxyType(
    {"9x16": "meta_reels", "4x5": "meta_feed", "1x1": "meta_feed", "16x9": "youtube"}
)
UTM_MEDIUM = "paid_social"
# How a creative id is found inside an ad name or a URL parameter: not glued to other letters
# or digits (so "SURF-1" holds no id), in any case (some exports upper-case names).
CREATIVE_ID = re.compile(r"(?<![A-Za-z0-9])rf-[a-z0-9]{4,64}(?![A-Za-z0-9])", re.IGNORECASE)
HOOK_MAX = 500  # characters of the first line kept as the hook

def duration_bucket(seconds: float) -> str:
    """The reporting bucket of an ad's length: "<15s", "15-30s" or "30s+"."""
    if seconds < 15:
        return "<15s"
    if seconds <= 30:
        return "15-30s"
    return "30s+"

class CreativeAttributes(BaseModel):
    """One rendered output as the reports see it; ``creative_id`` is stable and unique."""

    model_config = ConfigDict(frozen=True)

    creative_id: str = Field(pattern=r"^rf-[a-z0-9]{4,64}$")
    sku: str
    product: str
    template: str
    duration_s: float
    duration_bucket: str
    palette_colour: str  # the dominant palette colour's name, in the brand's language
    voice: Literal["on", "off"]
    caption_style: str
    hook: str  # the first spoken/on-screen line
    format: str  # "9x16", "4x5", "1x1", "16x9"
    script_option: int
    ad_name: str  # suggested ad name; contains creative_id
    landing_url: str  # product URL with utm_source/medium/campaign/content


def creative_id(brief_hash: str, script_hash: str, fmt: str) -> str:
    """The stable id of the output in format ``fmt`` of a script rendered from a brief."""
    key = f"reelforge:creative:{brief_hash}:{script_hash}:{fmt}"
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"rf-{digest[:12]}"


def creative_ids_in(text: str) -> list[str]:
    """Every creative id written in ``text`` (an ad name, a URL or a bare ``utm_content``)."""
    return [m.group(0).lower() for m in CREATIVE_ID.finditer(text)]


def campaign_slug(text: str) -> str:
    """Lower-case letters and digits joined by single hyphens: ``AUR-ESP 01`` → ``aur-esp-01``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "reelforge"


def landing_url(url: str, *, source: str, campaign: str, content: str) -> str:
    """``url`` with the four UTM parameters set (replacing any already there)."""
    parts = urlsplit(url)
    ours = {
        "utm_source": source,
        "utm_medium": UTM_MEDIUM,
        "utm_campaign": campaign,
        "utm_content": content,
    }
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ours]
    return urlunsplit(parts._replace(query=urlencode([*kept, *ours.items()])))


def ad_name(*, sku: str, template: str, fmt: str, option: int, creative: str) -> str:
    """The suggested name for the ad on the platform; it ends with the creative id."""
    return f"{sku}_{template}_{fmt}_o{option}_{creative}"
