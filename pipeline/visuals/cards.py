"""Still frames drawn once with Pillow: cover-fit photos, palette-tinted text cards, the end card.

Text is laid out here, on stills, so no user text ever reaches an FFmpeg filter string.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFilter, ImageFont

__all__ = ["cover_fit", "end_card", "fit_text", "gradient", "text_card"]

Box = tuple[int, int, int, int]


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _shade(rgb: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return (
        max(0, min(255, round(rgb[0] * factor))),
        max(0, min(255, round(rgb[1] * factor))),
        max(0, min(255, round(rgb[2] * factor))),
    )


def cover_fit(
    photo: Image.Image, size: tuple[int, int], focus: tuple[float, float] = (0.5, 0.5)
) -> Image.Image:
    """Crop the photo to the target aspect around ``focus`` and resize it to fill ``size``."""
    tw, th = size
    sw, sh = photo.size
    target = tw / th
    if sw / sh > target:
        cw, ch = round(sh * target), sh
    else:
        cw, ch = sw, round(sw / target)
    x = round(min(max(focus[0] * sw - cw / 2, 0), sw - cw))
    y = round(min(max(focus[1] * sh - ch / 2, 0), sh - ch))
    return photo.resize(size, Image.Resampling.LANCZOS, box=(x, y, x + cw, y + ch))


def cover_crop_width(photo_size: tuple[int, int], size: tuple[int, int]) -> int:
    """Width in source pixels of the region ``cover_fit`` would use."""
    sw, sh = photo_size
    tw, th = size
    return round(sh * tw / th) if sw / sh > tw / th else sw


def gradient(size: tuple[int, int], top: str, bottom: str) -> Image.Image:
    """A vertical two-colour gradient with a soft light from the upper left."""
    w, h = size
    a, b = _rgb(top), _rgb(bottom)
    column = Image.new("RGB", (1, 256))
    column.putdata(
        [
            (
                round(a[0] + (b[0] - a[0]) * i / 255),
                round(a[1] + (b[1] - a[1]) * i / 255),
                round(a[2] + (b[2] - a[2]) * i / 255),
            )
            for i in range(256)
        ]
    )
    image = column.resize((w, h), Image.Resampling.BILINEAR)
    glow = Image.new("L", (w, h), 0)
    ImageDraw.Draw(glow).ellipse((-w // 3, -h // 4, w // 2 + w // 3, h // 2), fill=60)
    glow = glow.filter(ImageFilter.GaussianBlur(max(w, h) // 8))
    light = Image.new("RGB", (w, h), _shade(a, 1.35))
    return Image.composite(light, image, glow)


def fit_text(
    text: str,
    font_path: str,
    box: Box,
    *,
    max_size: int,
    min_size: int = 18,
    line_spacing: float = 1.15,
) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest font size at which ``text`` word-wraps inside ``box``; raises ValueError if none."""
    width = box[2] - box[0]
    height = box[3] - box[1]
    words = text.split()
    size = max_size
    while size >= min_size:
        font = ImageFont.truetype(font_path, size)
        lines: list[str] = []
        line = ""
        ok = True
        for word in words:
            trial = f"{line} {word}".strip()
            if font.getlength(trial) <= width:
                line = trial
                continue
            if not line or font.getlength(word) > width:
                ok = False
                break
            lines.append(line)
            line = word
        if line:
            lines.append(line)
        if ok and len(lines) * size * line_spacing <= height:
            return font, lines
        size = int(size * 0.92)
    raise ValueError(f"text does not fit in {width}x{height} px at {min_size} px: {text!r}")


def _draw_lines(
    draw: ImageDraw.ImageDraw,
    font: ImageFont.FreeTypeFont,
    lines: Sequence[str],
    box: Box,
    fill: str,
    *,
    line_spacing: float = 1.15,
    valign: float = 0.5,
) -> int:
    """Draw centred lines inside box; returns the bottom y of the text block."""
    size = font.size
    block = len(lines) * size * line_spacing
    y = box[1] + (box[3] - box[1] - block) * valign
    cx = (box[0] + box[2]) / 2
    for line in lines:
        draw.text((cx, y + size * line_spacing / 2), line, font=font, fill=fill, anchor="mm")
        y += size * line_spacing
    return round(y)


def text_card(
    size: tuple[int, int],
    text: str,
    *,
    background: str,
    text_colour: str,
    font_path: str,
    safe: Box,
    photo: Image.Image | None = None,
) -> Image.Image:
    """A palette-tinted card with the scene's text centred in the safe box."""
    w, h = size
    image = gradient(
        size, background, "#{:02x}{:02x}{:02x}".format(*_shade(_rgb(background), 0.55))
    )
    if photo is not None:
        # A faint, blurred echo of the product keeps the card on-brand without competing with text.
        ghost = (
            cover_fit(photo, (w // 4, h // 4))
            .resize(size)
            .filter(ImageFilter.GaussianBlur(w // 60))
        )
        image = Image.blend(image, ghost, 0.12)
    draw = ImageDraw.Draw(image)
    font, lines = fit_text(text, font_path, safe, max_size=round(min(w, h) * 0.11))
    _draw_lines(draw, font, lines, safe, text_colour)
    return image


def end_card(
    size: tuple[int, int],
    *,
    name: str,
    price: str,
    cta: str,
    background: str,
    text_colour: str,
    accent: str,
    on_accent: str,
    font_path: str,
    safe: Box,
    photo: Image.Image | None,
    logo: Image.Image | None,
) -> Image.Image:
    """Product, name, price and a call-to-action button, all inside the safe box."""
    w, h = size
    image = gradient(size, background, "#{:02x}{:02x}{:02x}".format(*_shade(_rgb(background), 0.6)))
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = safe
    box_h = bottom - top
    cursor = top
    if logo is not None:
        logo_h = round(box_h * 0.09)
        scaled = logo.copy()
        scaled.thumbnail((round((right - left) * 0.5), logo_h), Image.Resampling.LANCZOS)
        image.paste(
            scaled, ((w - scaled.width) // 2, cursor), scaled if scaled.mode == "RGBA" else None
        )
        cursor += logo_h + round(box_h * 0.03)
    if photo is not None:
        ph = round(box_h * (0.42 if h > w else 0.36))
        pw = min(right - left, round(ph * 1.2))
        shot = cover_fit(photo, (pw, ph))
        mask = Image.new("L", shot.size, 0)
        ImageDraw.Draw(mask).rounded_rectangle(
            (0, 0, pw - 1, ph - 1), radius=min(pw, ph) // 12, fill=255
        )
        image.paste(shot, ((w - pw) // 2, cursor), mask)
        cursor += ph + round(box_h * 0.04)
    rest = bottom - cursor
    name_box = (left, cursor, right, cursor + round(rest * 0.30))
    font, lines = fit_text(name, font_path, name_box, max_size=round(min(w, h) * 0.075))
    _draw_lines(draw, font, lines, name_box, text_colour)
    price_box = (left, name_box[3], right, name_box[3] + round(rest * 0.25))
    font, lines = fit_text(price, font_path, price_box, max_size=round(min(w, h) * 0.085))
    _draw_lines(draw, font, lines, price_box, text_colour)
    button_h = round(rest * 0.28)
    button_w = round((right - left) * 0.8)
    bx = (w - button_w) // 2
    by = price_box[3] + round(rest * 0.06)
    draw.rounded_rectangle(
        (bx, by, bx + button_w, by + button_h), radius=button_h // 2, fill=accent
    )
    pad = button_h // 5
    cta_box = (bx + pad * 2, by + pad, bx + button_w - pad * 2, by + button_h - pad)
    font, lines = fit_text(cta, font_path, cta_box, max_size=round(button_h * 0.5), min_size=12)
    _draw_lines(draw, font, lines, cta_box, on_accent)
    return image
