"""A synthetic but realistic performance dataset with known effects, for the report's tests.

Each creative has a true CTR (its template's, times a lognormal creative effect: creatives differ
far more than binomial noise), lognormal impressions, binomial clicks, plays and purchases, and
daily rows. The default arms: before_after under 15 s has a true median CTR 40% above
lifestyle_story over 30 s; unboxing looks best but has too few impressions to rank.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from pipeline.analytics.model import PerformanceRow
from pipeline.creative import CreativeAttributes, duration_bucket

__all__ = ["DEFAULT_ARMS", "Arm", "Dataset", "generate", "lucky_hook"]


@dataclass(frozen=True)
class Arm:
    """Creatives of one template, with their true median CTR and length range."""

    template: str
    ctr: float
    creatives: int
    durations: tuple[float, float]
    impressions_median: float = 20_000
    impressions_sigma: float = 0.8


DEFAULT_ARMS: tuple[Arm, ...] = (
    Arm("before_after", 0.014, 40, (8, 14)),
    Arm("lifestyle_story", 0.010, 40, (31, 45)),
    Arm("product_showcase", 0.012, 30, (16, 29)),
    # Six creatives with 400 impressions each: enough creatives, too few impressions.
    Arm("unboxing", 0.020, 6, (10, 14), impressions_median=400, impressions_sigma=0.3),
)
PALETTE = ("red", "blue", "green", "black")
HOOKS = ("Stop scrolling.", "You need this.", "Before. After.", "Meet your new favourite.")
FORMATS = ("9x16", "4x5", "1x1")


@dataclass(frozen=True)
class Dataset:
    creatives: tuple[CreativeAttributes, ...]
    rows: tuple[PerformanceRow, ...]
    true_ctr: dict[str, float] = field(default_factory=dict)  # per creative id


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))


def generate(
    arms: Sequence[Arm] = DEFAULT_ARMS,
    *,
    seed: int = 7,
    currency: str = "USD",
    days: int = 7,
    creative_sigma: float = 0.2,
    source: str = "meta_csv",
    start: date = date(2026, 3, 2),
) -> Dataset:
    """Creatives and daily rows for ``arms``; the same seed gives the same data."""
    rng = np.random.default_rng(seed)
    creatives: list[CreativeAttributes] = []
    rows: list[PerformanceRow] = []
    truth: dict[str, float] = {}
    for arm in arms:
        for i in range(arm.creatives):
            cid = f"rf-{arm.template.replace('_', '')[:8]}{seed:02d}{i:04d}"
            duration = float(rng.uniform(*arm.durations))
            ctr = min(0.5, arm.ctr * math.exp(rng.normal(0.0, creative_sigma)))
            truth[cid] = ctr
            creatives.append(
                CreativeAttributes(
                    creative_id=cid,
                    sku="AUR-ESP-01",
                    product="Aurora Espresso Cup",
                    template=arm.template,
                    duration_s=round(duration, 2),
                    duration_bucket=duration_bucket(duration),
                    palette_colour=str(rng.choice(PALETTE)),
                    voice="on" if rng.random() < 0.7 else "off",
                    caption_style="bold",
                    hook=str(rng.choice(HOOKS)),
                    format=str(rng.choice(FORMATS)),
                    script_option=int(rng.integers(1, 4)),
                    ad_name=f"{cid} {arm.template}",
                    landing_url=f"https://example.com/cup?utm_content={cid}",
                )
            )
            impressions = max(
                1, round(rng.lognormal(math.log(arm.impressions_median), arm.impressions_sigma))
            )
            per_day = rng.multinomial(impressions, np.full(days, 1.0 / days))
            cpm = rng.lognormal(math.log(9.0), 0.2)
            hook_rate = min(0.9, 0.30 * math.exp(rng.normal(0.0, 0.15)))
            for day, shown in enumerate(per_day):
                shown = int(shown)
                if shown == 0:
                    continue
                clicks = int(rng.binomial(shown, ctr))
                purchases = int(rng.binomial(clicks, 0.03))
                plays = int(rng.binomial(shown, hook_rate))
                period = start + timedelta(days=day)
                rows.append(
                    PerformanceRow(
                        source=source,  # type: ignore[arg-type]
                        creative_id=cid,
                        ad_name=f"{cid} {arm.template}",
                        period_start=period,
                        period_end=period,
                        currency=currency,
                        impressions=shown,
                        clicks=clicks,
                        spend=_money(shown * cpm / 1000),
                        purchases=purchases,
                        revenue=_money(purchases * 45.0),
                        video_3s_plays=plays,
                        thruplays=int(rng.binomial(plays, 0.4)),
                    )
                )
    return Dataset(tuple(creatives), tuple(rows), truth)


def lucky_hook() -> Dataset:
    """Two templates with plenty of impressions each, but hook rates measured unevenly:
    "tpl_a" has five creatives from Google (no 3-second plays) and one Meta creative with a lucky
    95% hook rate on 2,000 impressions; "tpl_b" has six Meta creatives at a solid 35%."""
    creatives: list[CreativeAttributes] = []
    rows: list[PerformanceRow] = []
    for template, letter in (("tpl_a", "a"), ("tpl_b", "b")):
        for i in range(6):
            cid = f"rf-{letter * 4}{i:08d}"
            creatives.append(
                CreativeAttributes(
                    creative_id=cid, sku="S", product="P", template=template, duration_s=10,
                    duration_bucket="<15s", palette_colour="red", voice="on", caption_style="x",
                    hook="h", format="9x16", script_option=1, ad_name=f"S_{cid}",
                    landing_url=f"https://x.test/?utm_content={cid}",
                )
            )  # fmt: skip
            measured = template == "tpl_b" or i == 0
            rows.append(
                PerformanceRow(
                    source="meta_csv" if measured else "google_csv",
                    creative_id=cid, ad_name=cid, period_start=date(2024, 5, 1),
                    period_end=date(2024, 5, 31), currency="USD", impressions=2000, clicks=30,
                    spend=Decimal(50),
                    video_3s_plays=(1900 if template == "tpl_a" else 700) if measured else None,
                )
            )  # fmt: skip
    return Dataset(tuple(creatives), tuple(rows))
