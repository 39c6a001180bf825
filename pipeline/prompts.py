"""Cinematic prompts for generative image and video models, one per script scene, in English."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from pipeline.brief import Brief
from pipeline.palette.model import Palette
from pipeline.palette.names import language_of, unique_color_names
from pipeline.script.model import Scene, SceneKind, Script
from pipeline.templates.model import Template

# Prompts are English whatever the brand locale: current generative models follow English best,
# so palette colours get English names and common Italian tone words are translated. Facts typed
# by the user (product name, features) stay as written.

__all__ = ["NEGATIVE_PROMPT", "ScenePrompt", "build_prompts", "english_colour_names"]


class ScenePrompt(BaseModel):
    model_config = ConfigDict(frozen=True)

    scene: int
    prompt: str
    negative_prompt: str
    camera: str
    lighting: str
    style: str


# Text is added later by the renderer in the brand font; generated text is always garbled.
NEGATIVE_PROMPT = (
    "text, letters, words, captions, subtitles, typography, watermark, logo overlay, signature, "
    "blurry, low resolution, distorted product, warped label, deformed hands, extra fingers, "
    "duplicate products, cluttered background, oversaturated, cartoon"
)

_CAMERA: dict[str, dict[str, tuple[str, ...]]] = {
    "gentle": {
        "hook": ("slow dolly push-in", "slow arc around the product"),
        "problem": ("static medium shot with a slight handheld sway",),
        "solution": ("slow crane down to eye level",),
        "feature": ("macro close-up with a slow rack focus", "slow slider move across the detail"),
        "how_to_step": ("top-down overhead shot with a slow drift",),
        "benefit": ("smooth gimbal follow at walking pace", "slow lateral tracking shot"),
        "proof": ("locked-off medium shot with a gentle drift",),
        "offer": ("slow push-in to a centred hero framing",),
        "comparison": ("slow lateral tracking shot from one object to the other",),
        "before": ("static wide shot",),
        "after": ("the same framing with a slow push-in",),
        "reveal": ("slow tilt up as the product is revealed",),
        "cta": ("static locked-off hero shot",),
    },
    "dynamic": {
        "hook": ("fast whip pan landing on a snap push-in", "crash zoom into a hero close-up"),
        "problem": ("jittery handheld close-up",),
        "solution": ("whip pan reveal settling on the product",),
        "feature": ("snap zoom into macro detail", "fast orbit around the product"),
        "how_to_step": ("overhead shot with quick jump-cut energy",),
        "benefit": ("energetic handheld tracking shot", "low-angle dolly with a speed ramp"),
        "proof": ("quick dolly-in to a medium close-up",),
        "offer": ("punchy crash zoom onto the product",),
        "comparison": ("fast lateral tracking shot from one object to the other",),
        "before": ("quick handheld wide shot",),
        "after": ("speed ramp into a smooth push-in",),
        "reveal": ("fast overhead drop into the open box",),
        "cta": ("fast push-in settling on a hero shot",),
    },
}

_LENS: dict[str, str] = {
    "hook": "35mm lens, shallow depth of field",
    "feature": "100mm macro lens, razor-thin focus",
    "how_to_step": "35mm lens, deep focus",
    "before": "24mm wide lens",
    "after": "24mm wide lens",
    "comparison": "50mm lens, f/4",
    "cta": "85mm lens, soft background",
}

_TONE_LIGHT: tuple[tuple[frozenset[str], str], ...] = (
    (
        frozenset({"luxury", "premium", "elegant", "refined", "sophisticated", "minimal"}),
        "low-key lighting with soft specular highlights and deep, clean shadows",
    ),
    (
        frozenset(
            {"warm", "cozy", "cosy", "friendly", "natural", "homely", "affectionate", "reassuring"}
        ),
        "warm golden-hour window light with a soft bounce fill",
    ),
    (
        frozenset({"playful", "bold", "energetic", "fun", "vibrant", "punchy", "youthful"}),
        "bright high-key lighting with crisp shadows and a punchy rim light",
    ),
)
_DEFAULT_LIGHT = "soft diffused daylight with a gentle rim light"

# Common Italian tone words; brand tone feeds the mood line of an English prompt.
_TONE_IT_EN: dict[str, str] = {
    "caldo": "warm", "calda": "warm", "sicuro": "confident", "sicura": "confident",
    "giocoso": "playful", "giocosa": "playful", "elegante": "elegant", "lusso": "luxury",
    "lussuoso": "luxury", "raffinato": "refined", "raffinata": "refined", "audace": "bold",
    "energico": "energetic", "energica": "energetic", "vivace": "vibrant", "naturale": "natural",
    "minimale": "minimal", "amichevole": "friendly", "accogliente": "cozy", "divertente": "fun",
    "moderno": "modern", "moderna": "modern", "autentico": "authentic", "autentica": "authentic",
    "premium": "premium", "fresco": "fresh", "fresca": "fresh", "sereno": "calm",
    "serena": "calm", "calmo": "calm", "calma": "calm", "ironico": "witty", "ironica": "witty",
    "affettuoso": "affectionate", "affettuosa": "affectionate", "rassicurante": "reassuring",
    "dolce": "gentle", "solare": "sunny", "sobrio": "understated", "sobria": "understated",
    "deciso": "assertive", "decisa": "assertive", "curioso": "curious", "curiosa": "curious",
    "tecnico": "technical", "professionale": "professional", "giovane": "youthful",
    "artigianale": "crafted", "e": "and",
}  # fmt: skip


def english_colour_names(palette: Palette) -> list[str]:
    """The swatches' names in English: their own for English palettes, else re-named from the
    same colour table the palette stage uses, so "verde salvia" becomes "sage green"."""
    if language_of(palette.locale) == "en":
        return [s.name for s in palette.swatches]
    return unique_color_names([s.rgb for s in palette.swatches], "en")


def _mood(tone: str, language: str) -> str:
    if language != "it":
        return tone
    words = [w.strip(" .;") for w in tone.replace(",", " , ").split()]
    out = " ".join(_TONE_IT_EN.get(w.lower(), w) for w in words if w)
    return out.replace(" ,", ",")


def _lighting(mood: str, role: str) -> str:
    if role == "before":
        return "flat, slightly dull overcast light"
    if role == "cta":
        return "clean, even studio light with a soft gradient"
    words = {w.strip(",.;").lower() for w in mood.split()}
    for keys, light in _TONE_LIGHT:
        if words & keys:
            return light
    return _DEFAULT_LIGHT


_PLATE_TEXTURES = (
    "soft radial gradient",
    "fine paper grain",
    "gentle out-of-focus bokeh",
    "subtle brushed-metal sheen",
)
_PLATE_FEEL: dict[str, str] = {
    "hook": "striking",
    "problem": "muted and tense",
    "offer": "bold and celebratory",
    "proof": "calm and trustworthy",
}


def _subject(scene: Scene, role: str, brief: Brief, grade: list[str]) -> str:
    name = brief.product.name
    if scene.kind is SceneKind.TEXT_CARD:
        # Text cards get a plate the renderer sets words on: keep the centre calm and empty.
        colour = grade[scene.index % len(grade)]
        texture = _PLATE_TEXTURES[scene.index % len(_PLATE_TEXTURES)]
        feel = _PLATE_FEEL.get(role, "clean")
        return (
            f"Abstract {feel} background plate in {colour} tones for an ad for {name}, "
            f"{texture}, empty calm centre"
        )
    if scene.kind is SceneKind.END_CARD:
        return (
            f"Minimal hero backdrop in {grade[0]} with {name} small and sharp on one side, "
            f"generous empty space for the logo and call to action"
        )
    reference = f"the exact product from reference photo {(scene.photo or 0) + 1}"
    return f"{name}, {reference}. {scene.visual}"


def build_prompts(
    script: Script, *, template: Template, palette: Palette, brief: Brief
) -> tuple[ScenePrompt, ...]:
    """A cinematic, deterministic prompt per scene of ``script``."""
    slots = {slot.name: slot for slot in template.slots}
    moves = _CAMERA[template.pacing.motion]
    grade = english_colour_names(palette)[:3]
    grade_text = ", ".join(grade[:-1]) + f" and {grade[-1]}" if len(grade) > 1 else grade[0]
    mood = _mood(brief.brand.tone, brief.brand.language)
    pace = "calm, unhurried pacing" if template.pacing.motion == "gentle" else "punchy pacing"
    look = (
        "authentic creator footage shot on a smartphone, natural imperfections"
        if "ugc" in template.tags
        else "premium commercial product cinematography, photorealistic, subtle film grain"
    )
    style = f"{look}, {pace}"
    prompts: list[ScenePrompt] = []
    for scene in script.scenes:
        slot = slots.get(scene.slot)
        role = slot.role if slot else ("cta" if scene.kind is SceneKind.END_CARD else "benefit")
        options = moves.get(role, moves["benefit"])
        camera = options[scene.index % len(options)]
        lens = _LENS.get(role, "50mm lens, shallow depth of field")
        lighting = _lighting(mood, role)
        subject = _subject(scene, role, brief, grade)
        prompt = (
            f"{subject}. Camera: {camera}, {lens}. Lighting: {lighting}. "
            f"Colour grade built on {grade_text}. Mood: {mood}. Style: {style}."
        )
        prompts.append(
            ScenePrompt(
                scene=scene.index,
                prompt=prompt,
                negative_prompt=NEGATIVE_PROMPT,
                camera=camera,
                lighting=lighting,
                style=style,
            )
        )
    return tuple(prompts)
