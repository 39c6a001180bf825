"""What a chat model is asked for ad scripts: the messages, the repair prompt, the reply schema.

The scene plan (slots, kinds, photos, seconds, angles) is the offline writer's, so every writer
gives a brief the same structure and refuses the same briefs; the model writes only the words.
All ``n`` options are asked for at once, in one schema holding an array of ``n`` scripts.

The schema sent keeps only keywords all three providers' structured outputs accept (type,
properties, required, additionalProperties, items, enum, anyOf, description; references
inlined): lengths and ranges are in the prompt and in the check of the reply
(:mod:`pipeline.providers.chat_reply`), which re-checks everything anyway.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.brief import Brief
from pipeline.palette.model import Palette
from pipeline.script.model import Script, script_json_schema
from pipeline.script.offline import format_price, word_budget
from pipeline.templates.model import ANGLES, Template

__all__ = ["repair_prompt", "response_schema", "script_messages"]

_PORTABLE_KEYWORDS = frozenset(
    {"type", "properties", "required", "additionalProperties", "items", "enum", "anyOf"}
    | {"description"}
)
_LANGUAGE_NAMES = {"en": "English", "it": "Italian"}
_ANGLE_HINTS = {
    "benefit-led": "lead with what the product does for the buyer's day",
    "problem-led": "open on a relatable frustration, then the product solves it",
    "feature-led": "lead with the most striking feature",
    "price-led": "lead with the price and the value for money",
    "proof-led": "lead with credibility: craft, quality, the brand's care (no invented reviews)",
    "curiosity-led": "open with an intriguing line that makes people watch on",
}
_MAX_ERRORS_SENT = 12

_SYSTEM = """\
You write short-form video ad scripts (Reels, TikTok, Shorts) and reply with JSON only.

Follow the scene plan exactly. Copy option, template, locale and angle, and for every scene its
index, slot, kind, photo and duration, as given. You write only the words: hook, cta and each
scene's on_screen_text, voiceover and visual.

Rules:
- on_screen_text: at most the scene's max_chars characters; short and punchy; no hashtags or emoji.
  Text cards and the end card always carry on-screen text.
- voiceover: at most the scene's max_words spoken words (a number counts two words per group of
  digits, so "24.90" is four). Leave it empty rather than go over. Read in order, the voiceovers
  form one flowing script.
- hook: the opening line that stops the scroll; use the first scene's on-screen text.
- cta: the call to action, within the end card's max_chars; the end card shows it and says it.
- visual: one plain English sentence describing what is seen; photo scenes show the product as
  in the given product photo.
- Write hook, cta, on-screen text and voiceover in {language} (locale {locale}); visual always in
  English.
- Use only the facts in the brief: never invent claims, numbers, discounts, awards or reviews.
- Match the brand's tone. Each option follows its own angle; no two options share a hook or lines.

Reply with {{"scripts": [...]}}: exactly {n} scripts, options 1 to {n} in order."""


def _plan_json(
    plan: Sequence[Script], template: Template, language: str, rate: int | None
) -> list[dict[str, Any]]:
    slots = {s.name: s for s in template.slots}
    return [
        {
            "option": script.option,
            "template": script.template,
            "locale": script.locale,
            "angle": script.angle,
            "scenes": [
                {
                    "index": scene.index,
                    "slot": scene.slot,
                    "role": slots[scene.slot].role,
                    "kind": scene.kind.value,
                    "photo": scene.photo,
                    "duration": scene.duration,
                    "max_chars": slots[scene.slot].max_chars,
                    "max_words": word_budget(scene.duration, language, rate),
                }
                for scene in script.scenes
            ],
        }
        for script in plan
    ]


def _colours(palette: Palette) -> str:
    roles = {palette.roles.background: "background", palette.roles.accent: "accent"}
    names = []
    for swatch in palette.swatches:
        role = roles.get(swatch.hex)
        names.append(f"{swatch.name} ({role})" if role else swatch.name)
    return ", ".join(names)


def script_messages(
    brief: Brief, template: Template, palette: Palette, plan: Sequence[Script]
) -> list[dict[str, str]]:
    """The system and user messages asking for words for every option of ``plan``."""
    lang = brief.brand.language
    language = _LANGUAGE_NAMES.get(lang, lang)
    product = brief.product
    angles = dict.fromkeys(s.angle for s in plan)
    lines = [
        f"Brand: {brief.brand.name}. Tone: {brief.brand.tone}.",
        f"Language: {language} (locale {brief.brand.locale}).",
        f"Brand colours: {_colours(palette)}.",
        f"Product: {product.name}. {product.description}",
        "Features:",
        *(f"- {feature}" for feature in product.features),
        f"Price: {format_price(product.price, product.currency, lang)}.",
        f"Product photos: {len(product.photos)} (scenes name them by 0-based index).",
        f"Template: {template.name} ({template.title}): {template.description}",
        f"Pacing: {template.pacing.motion} motion; tags: {', '.join(template.tags) or 'none'}.",
        f"Suggested call to action: {template.cta.get(lang, next(iter(template.cta.values())))}",
        f"Video length: {brief.duration:g} s.",
        "Angles:",
        *(f"- {angle}: {_ANGLE_HINTS.get(angle, angle)}" for angle in angles),
        "Scene plan, one entry per option:",
        json.dumps(_plan_json(plan, template, lang, brief.voice.rate), ensure_ascii=False),
    ]
    system = _SYSTEM.format(language=language, locale=brief.brand.locale, n=len(plan))
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n".join(lines)}]


def repair_prompt(errors: Sequence[str], n: int) -> str:
    """The follow-up that hands a reply's validation errors back to the model, once."""
    listed = "\n".join(f"- {e}" for e in errors[:_MAX_ERRORS_SENT])
    more = len(errors) - _MAX_ERRORS_SENT
    if more > 0:
        listed += f"\n- and {more} more"
    return (
        f"Your reply does not pass validation:\n{listed}\n"
        f"Reply again with the complete corrected JSON for all {n} options, following the same "
        f"scene plan and rules."
    )


def response_schema(plan: Sequence[Script]) -> dict[str, Any]:
    """``{"scripts": [Script, ...]}`` from the Script schema, portable across the providers, with
    this plan's slot names and the known angles as enums."""
    source = script_json_schema()
    script = _portable(source, source.get("$defs", {}))
    slots = sorted({scene.slot for s in plan for scene in s.scenes})
    script["properties"]["scenes"]["items"]["properties"]["slot"]["enum"] = slots
    script["properties"]["angle"]["enum"] = list(ANGLES)
    return {
        "type": "object",
        "properties": {
            "scripts": {
                "type": "array",
                "description": f"exactly {len(plan)} scripts, options 1 to {len(plan)} in order",
                "items": script,
            }
        },
        "required": ["scripts"],
        "additionalProperties": False,
    }


def _portable(node: Any, defs: Mapping[str, Any]) -> Any:
    if isinstance(node, list):
        return [_portable(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        # Siblings of a $ref (its description) win over the referenced schema's own.
        merged = {**defs[ref.rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
        return _portable(merged, defs)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key not in _PORTABLE_KEYWORDS:
            continue
        if key == "properties":
            out[key] = {name: _portable(sub, defs) for name, sub in value.items()}
        else:
            out[key] = _portable(value, defs)
    if out.get("type") == "object":
        out["required"] = list(out.get("properties", {}))
        out["additionalProperties"] = False
    return out
