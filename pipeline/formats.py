"""Placement formats: output sizes and the safe zones captions and text must stay inside."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

__all__ = ["FORMATS", "Format", "FormatSpec", "SafeZone", "parse_formats"]


class Format(StrEnum):
    V9X16 = "9x16"
    V4X5 = "4x5"
    V1X1 = "1x1"
    V16X9 = "16x9"


class SafeZone(BaseModel):
    """Fractions of the frame kept clear of text on each side."""

    model_config = ConfigDict(frozen=True)

    top: float
    bottom: float
    left: float
    right: float


class FormatSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    format: Format
    width: int
    height: int
    safe: SafeZone
    placements: tuple[str, ...]

    def scaled(self, width: int) -> FormatSpec:
        """The same format at another width (even dimensions, for drafts)."""
        height = round(self.height * width / self.width / 2) * 2
        return self.model_copy(update={"width": width, "height": height})

    @property
    def safe_box(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) pixel box where text may go."""
        return (
            round(self.width * self.safe.left),
            round(self.height * self.safe.top),
            round(self.width * (1 - self.safe.right)),
            round(self.height * (1 - self.safe.bottom)),
        )


# 9x16 takes the strictest published zone of its placements (Meta Reels: top 14%, bottom 35%,
# sides 6%; TikTok's right-hand buttons need 15% on the right). The other formats have no
# published zone; a conservative title-safe margin keeps text off platform overlays.
FORMATS: dict[Format, FormatSpec] = {
    Format.V9X16: FormatSpec(
        format=Format.V9X16,
        width=1080,
        height=1920,
        safe=SafeZone(top=0.14, bottom=0.35, left=0.06, right=0.15),
        placements=("Meta Reels", "Meta Stories", "TikTok In-Feed", "YouTube Shorts", "Snapchat"),
    ),
    Format.V4X5: FormatSpec(
        format=Format.V4X5,
        width=1080,
        height=1350,
        safe=SafeZone(top=0.08, bottom=0.12, left=0.06, right=0.06),
        placements=("Meta Feed", "Instagram Feed", "LinkedIn", "Pinterest"),
    ),
    Format.V1X1: FormatSpec(
        format=Format.V1X1,
        width=1080,
        height=1080,
        safe=SafeZone(top=0.08, bottom=0.12, left=0.06, right=0.06),
        placements=("Meta Feed", "Pinterest", "YouTube"),
    ),
    Format.V16X9: FormatSpec(
        format=Format.V16X9,
        width=1920,
        height=1080,
        safe=SafeZone(top=0.08, bottom=0.12, left=0.08, right=0.08),
        placements=("YouTube in-stream", "LinkedIn"),
    ),
}


def parse_formats(text: str) -> list[Format]:
    """Parse a comma-separated list such as ``9x16,1x1``; raises ValueError naming a bad entry."""
    out: list[Format] = []
    for part in text.split(","):
        name = part.strip()
        if not name:
            continue
        try:
            fmt = Format(name)
        except ValueError:
            allowed = ", ".join(f.value for f in Format)
            raise ValueError(f"unknown format {name!r} (allowed: {allowed})") from None
        if fmt not in out:
            out.append(fmt)
    if not out:
        raise ValueError("no format given")
    return out
