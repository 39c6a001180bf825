"""The offline script writer: deterministic ad scripts built from the brief's facts, no model."""

# Long ads: while some scene would run longer than ``pacing.max_scene_seconds``, the writer adds
# a copy of a slot with ``repeat`` > 0 (round robin, up to ``repeat`` copies each) right after the
# last scene of its role, as long as an unused feature is left for it and every scene still gets
# ``min_scene_seconds``. Copies keep their slot's name. A template with more feature slots than
# the brief has features fills the rest with benefit lines (or a closing how-to step).

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from string import Formatter

from pipeline.brief import Brief
from pipeline.errors import BriefError
from pipeline.palette.model import Palette
from pipeline.script.fit import check_fit, feature_forms, too_long
from pipeline.script.model import BASE_RATE, Scene, SceneKind, Script, voice_room
from pipeline.script.phrases import (
    ENERGETIC_TONES,
    FEATURE_LEADS,
    HOOKS,
    LANGUAGE_RATES,
    ORDINALS,
    ROLE_LINES,
    SHORT_CTA,
    STEP_FALLBACK,
    STEP_LINES,
    TAG_HOOKS,
    TAG_ROLE_LINES,
    Lines,
)
from pipeline.templates.model import (
    FEATURE_ROLES,
    Angle,
    Slot,
    Template,
    slot_min_seconds,
)

__all__ = [
    "OfflineScriptWriter",
    "feature_forms",
    "format_price",
    "spoken_words",
    "word_budget",
]

# Share of a scene's voice room kept free: the rate is an average, and some words run long.
VOICE_MARGIN = 0.1

_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}
_DIGIT_RUN = re.compile(r"\d+")
# Parts of a compound ("double-walled", "and/or") are spoken as words of their own.
_JOINER = re.compile(r"[-/–]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def word_budget(seconds: float, language: str, rate: int | None = None) -> int:
    """How many words fit comfortably in the voice room of a ``seconds`` scene in ``language``
    (the scene less the voice's lead-in and the breath after it: :func:`voice_room`), spoken
    at the brief's ``voice.rate`` (words per minute; a slower voice fits fewer words)."""
    slower = min(1.0, (rate or BASE_RATE) / BASE_RATE)
    per_second = LANGUAGE_RATES[language] * slower
    return max(0, math.floor(per_second * voice_room(seconds) * (1 - VOICE_MARGIN)))


def spoken_words(text: str) -> int:
    """Words as spoken: a number counts two words per digit group ("24,90" is four), and each
    part of a compound counts ("double-walled" is two)."""
    return sum(_token_words(token) for token in text.split())


def _token_words(token: str) -> int:
    digits = len(_DIGIT_RUN.findall(token))
    if digits:
        return 2 * digits
    # A lone dash or symbol is not spoken.
    return sum(1 for part in _JOINER.split(token) if any(c.isalnum() for c in part))


def format_price(price: Decimal, currency: str, language: str) -> str:
    """``$24.90`` / ``€24.90`` / ``CHF 24.90`` in English, ``24,90 €`` in Italian."""
    whole, cents = f"{price.quantize(Decimal('0.01')):f}".split(".")
    grouped = f"{int(whole):,}"
    symbol = _SYMBOLS.get(currency)
    if language == "it":
        return f"{grouped.replace(',', '.')},{cents} {symbol or currency}"
    return f"{symbol}{grouped}.{cents}" if symbol else f"{currency} {grouped}.{cents}"


def _inline(text: str) -> str:
    """Lower-case the first letter for use mid-sentence, unless the word is an acronym."""
    first = text.split(" ", 1)[0]
    if len(first) > 1 and not first[1:].islower():
        return text
    return text[:1].lower() + text[1:]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _placeholders(pattern: str) -> list[str]:
    return [name for _, name, _, _ in Formatter().parse(pattern) if name]


@dataclass
class _Option:
    """Mutable state while one option's scenes are written."""

    number: int
    angle: Angle
    round: int
    variant: int
    features: list[int]
    next_feature: int = 0
    last_photo: int | None = None
    photo_cursor: int = 0
    role_seen: dict[str, int] = field(default_factory=dict)
    numbered: int = 0


class OfflineScriptWriter:
    """Writes ``n`` distinct scripts per brief from phrasing tables; same brief, same scripts."""

    def write(
        self, brief: Brief, template: Template, palette: Palette, *, n: int
    ) -> tuple[Script, ...]:
        if n < 1:
            raise ValueError("n must be at least 1")
        return _Writer(brief, template, palette).write(n)


class _Writer:
    def __init__(self, brief: Brief, template: Template, palette: Palette) -> None:
        self.brief = brief
        self.template = template
        self.palette = palette
        check_fit(brief, template)
        self.lang = brief.brand.language
        product = brief.product
        self.price = format_price(product.price, product.currency, self.lang)
        self.features = [feature_forms(f) for f in product.features]
        sentences = _SENTENCE_END.split(product.description.strip())
        self.desc = sentences[0] if sentences[0][-1:] in ".!?" else f"{sentences[0]}."
        tone_words = set(re.findall(r"[a-zà-ù]+", brief.brand.tone.lower()))
        self.energetic = bool(tone_words & ENERGETIC_TONES)
        self.plan = self._plan()
        self.seconds = [cs / 100 for cs in self._allocate(self.plan)]
        self.feature_scenes = sum(1 for s in self.plan if s.role in FEATURE_ROLES)

    # -- timing -------------------------------------------------------------------------------

    def _minima(self, plan: list[Slot]) -> list[int]:
        return [round(slot_min_seconds(s, self.template.pacing) * 100) for s in plan]

    def _allocate(self, plan: list[Slot]) -> list[int]:
        """Centiseconds per scene: shares by weight, slots below their minimum held at it."""
        total = round(self.brief.duration * 100)
        minima = self._minima(plan)
        fixed: dict[int, int] = {}
        shares: dict[int, float] = {}
        while True:
            free = [i for i in range(len(plan)) if i not in fixed]
            if not free:
                break
            remaining = total - sum(fixed.values())
            weight = sum(plan[i].weight for i in free)
            shares = {i: remaining * plan[i].weight / weight for i in free}
            low = [i for i in free if shares[i] < minima[i]]
            if not low:
                break
            fixed.update({i: minima[i] for i in low})
        out = [fixed[i] if i in fixed else math.floor(shares[i]) for i in range(len(plan))]
        # The last scene takes the rounding remainder so the total is exact.
        out[-1] += total - sum(out)
        return out

    def _plan(self) -> list[Slot]:
        t = self.template
        plan = list(t.slots)
        copies = dict.fromkeys((s.name for s in t.slots), 0)
        total = round(self.brief.duration * 100)
        while max(self._allocate(plan)) > t.pacing.max_scene_seconds * 100:
            shown = sum(1 for s in plan if s.role in FEATURE_ROLES)
            candidates = [s for s in t.slots if copies[s.name] < s.repeat]
            if shown >= len(self.features) or not candidates:
                break
            slot = min(candidates, key=lambda s: copies[s.name])
            last = max(i for i, s in enumerate(plan) if s.role == slot.role)
            trial = [*plan[: last + 1], slot, *plan[last + 1 :]]
            if sum(self._minima(trial)) > total:
                break
            copies[slot.name] += 1
            plan = trial
        return plan

    # -- options ------------------------------------------------------------------------------

    def write(self, n: int) -> tuple[Script, ...]:
        order = self.template.angle_order()
        scripts: list[Script] = []
        seen: set[tuple[object, ...]] = set()
        for number in range(1, n + 1):
            angle = order[(number - 1) % len(order)]
            rnd = (number - 1) // len(order)
            script = self._option(number, angle, rnd, salt=0)
            # Very tight briefs can collapse two options onto the same short lines; shift the
            # variant tables until they differ (bounded, then accept).
            for salt in range(1, 4):
                if _signature(script) not in seen:
                    break
                script = self._option(number, angle, rnd, salt=salt)
            seen.add(_signature(script))
            scripts.append(script)
        return tuple(scripts)

    def _option(self, number: int, angle: Angle, rnd: int, *, salt: int) -> Script:
        count = len(self.features)
        shift = (number - 1) % count
        state = _Option(
            number=number,
            angle=angle,
            round=rnd + salt,
            variant=(number - 1) + rnd + salt,
            features=[(shift + k) % count for k in range(count)],
            photo_cursor=(number - 1) % len(self.brief.product.photos),
        )
        scenes = [
            self._scene(index, slot, seconds, state)
            for index, (slot, seconds) in enumerate(zip(self.plan, self.seconds, strict=True))
        ]
        end = scenes[-1]
        return Script(
            option=number,
            template=self.template.name,
            locale=self.brief.brand.locale,
            angle=angle,
            hook=scenes[0].on_screen_text,
            cta=end.voiceover or end.on_screen_text,
            scenes=tuple(scenes),
        )

    # -- scenes -------------------------------------------------------------------------------

    def _context(self, feature: int | None, form: int = 0) -> dict[str, str]:
        ctx = {
            "name": self.brief.product.name,
            "brand": self.brief.brand.name,
            "price": self.price,
            "desc": self.desc,
            "n": str(self.feature_scenes),
        }
        if feature is not None:
            forms = self.features[feature]
            text = forms[min(form, len(forms) - 1)]
            ctx.update(feature=text, Feature=_capital(text), feature_l=_inline(text))
        return ctx

    def _scene(self, index: int, slot: Slot, seconds: float, state: _Option) -> Scene:
        occurrence = state.role_seen.get(slot.role, 0)
        state.role_seen[slot.role] = occurrence + 1
        budget = word_budget(seconds, self.lang, self.brief.voice.rate)
        feature: int | None = None
        if slot.role == "hook":
            lines, feature = self._hook(state), state.features[0]
        elif slot.role == "cta":
            lines = self._cta(slot, budget)
        elif slot.role in FEATURE_ROLES:
            lines, feature = self._feature(slot, state, occurrence)
        else:
            lines = self._role_lines(slot.role, occurrence, state)
        os_text = self._fit_os(lines.os, slot, feature)
        voiceover = self._fit_vo(lines.vo, budget, feature)
        if slot.role == "hook" and feature is not None:
            shown = self.features[feature][0]
            if shown in os_text or _inline(shown) in voiceover or shown in voiceover:
                # The hook already showed this feature: show it last, if at all, not next.
                state.features.remove(feature)
                state.features.append(feature)
        if slot.role == "hook" and self.energetic and voiceover.endswith("."):
            voiceover = voiceover[:-1] + "!"
        kind = SceneKind(slot.kind)
        photo = self._photo(slot, state) if kind is SceneKind.PHOTO else None
        return Scene(
            index=index,
            slot=slot.name,
            kind=kind,
            photo=photo,
            on_screen_text=os_text,
            voiceover=voiceover,
            visual=self._visual(slot, kind, photo, feature, os_text),
            duration=seconds,
        )

    def _hook(self, state: _Option) -> Lines:
        sets = [TAG_HOOKS[self.lang][tag][state.angle] for tag in self._tags(TAG_HOOKS)]
        sets.extend(HOOKS[self.lang][state.angle])
        return sets[state.round % len(sets)]

    def _tags(self, table: dict[str, dict[str, dict[str, Lines]]]) -> list[str]:
        return [tag for tag in self.template.tags if tag in table[self.lang]][:1]

    def _cta(self, slot: Slot, budget: int) -> Lines:
        chosen = SHORT_CTA[self.lang]
        for cta in (self.template.cta[self.lang], SHORT_CTA[self.lang]):
            if len(cta) <= slot.max_chars and spoken_words(cta) <= budget:
                chosen = cta
                break
        # The spoken CTA and the end card's text are the same words by design.
        return Lines((chosen,), (chosen,))

    def _role_lines(self, role: str, occurrence: int, state: _Option) -> Lines:
        sets = ROLE_LINES[self.lang][role]
        key = role if occurrence == 0 else f"{role}@1"
        for tag in self.template.tags:
            override = TAG_ROLE_LINES[self.lang].get((tag, key))
            if override:
                sets = override
                break
        return sets[(state.variant + occurrence) % len(sets)]

    def _feature(self, slot: Slot, state: _Option, occurrence: int) -> tuple[Lines, int | None]:
        if state.next_feature >= len(state.features):
            # More feature slots than features: a benefit (or a closing step) instead of a repeat.
            if slot.role == "how_to_step":
                return self._step(STEP_FALLBACK[self.lang], occurrence), None
            return self._numbered(self._role_lines("benefit", occurrence, state), state), None
        feature = state.features[state.next_feature]
        state.next_feature += 1
        if slot.role == "how_to_step":
            return self._step(STEP_LINES[self.lang], occurrence), feature
        leads = FEATURE_LEADS[self.lang]
        lead = leads[(state.variant + occurrence) % len(leads)]
        forms = self.features[feature]
        vo: list[str] = []
        for form in range(len(forms)):
            # Each form is tried with the lead, then bare; {feature} is resolved per form below.
            vo.extend(
                [_form_marker(lead, form), _form_marker("{Feature}.", form)],
            )
        os = tuple(_form_marker("{feature}", form) for form in range(len(forms)))
        return self._numbered(Lines(os, tuple(dict.fromkeys(vo))), state), feature

    def _step(self, lines: Lines, occurrence: int) -> Lines:
        ordinals = ORDINALS[self.lang]
        nth = ordinals[min(occurrence, len(ordinals) - 1)]
        step = str(occurrence + 1)

        def fill(text: str) -> str:
            return text.replace("{step}", step).replace("{nth}", nth)

        return Lines(tuple(map(fill, lines.os)), tuple(map(fill, lines.vo)))

    def _numbered(self, lines: Lines, state: _Option) -> Lines:
        if "numbered" not in self.template.tags:
            return lines
        state.numbered += 1
        prefix = f"{state.numbered}. "
        numbered = tuple(
            _form_marker(prefix + body, form) for body, form in map(_split_form, lines.os)
        )
        # The number goes first; without room for it the plain text still works as a list item.
        return Lines(numbered + lines.os, lines.vo)

    # -- fitting ------------------------------------------------------------------------------

    def _render(self, pattern: str, feature: int | None) -> str:
        pattern, form = _split_form(pattern)
        return pattern.format(**self._context(feature, form))

    def _fit_os(self, candidates: tuple[str, ...], slot: Slot, feature: int | None) -> str:
        for pattern in candidates:
            text = self._render(pattern, feature)
            if len(text) <= slot.max_chars:
                return text
        # Nothing fits: blame the brief fact in the shortest candidate, never truncate mid-word.
        last, form = _split_form(candidates[-1])
        ctx = self._context(feature, form)
        facts = {
            "name": "product.name",
            "brand": "brand.name",
            "price": "product.price",
            "feature": f"product.features[{feature}]",
            "Feature": f"product.features[{feature}]",
        }
        for key in _placeholders(last):
            if key in facts:
                raise too_long(self.template, facts[key], slot, len(ctx[key]))
        raise BriefError(
            "template",
            f"template {self.template.name!r} slot {slot.name!r} has no text that fits "
            f"{slot.max_chars} characters",
        )

    def _fit_vo(self, candidates: tuple[str, ...], budget: int, feature: int | None) -> str:
        for pattern in candidates:
            text = self._render(pattern, feature)
            if spoken_words(text) <= budget:
                return text
        return ""  # a silent scene beats a rushed one

    def _photo(self, slot: Slot, state: _Option) -> int:
        count = len(self.brief.product.photos)
        if slot.photo is not None:
            photo = slot.photo % count
        else:
            photo = state.photo_cursor % count
            if photo == state.last_photo and count > 1:
                photo = (photo + 1) % count
            state.photo_cursor = photo + 1
        state.last_photo = photo
        return photo

    def _visual(
        self, slot: Slot, kind: SceneKind, photo: int | None, feature: int | None, text: str
    ) -> str:
        name = self.brief.product.name
        if kind is SceneKind.END_CARD:
            return (
                f"End card: {self.brief.brand.name} logo, {name}, the price {self.price} "
                f"and the call to action on the brand background"
            )
        if kind is SceneKind.TEXT_CARD:
            return f"Text card: the words '{text}' set large on the brand background colour"
        shot = f"product photo {(photo or 0) + 1}"
        detail = self.features[feature][0] if feature is not None else None
        by_role = {
            "hook": f"Hero shot of {name} filling the frame ({shot})",
            "problem": f"An everyday moment of frustration, before {name} ({shot})",
            "solution": f"{name} presented as the answer, centred and well lit ({shot})",
            "feature": f"Close-up of {name} showing: {detail}" if detail else None,
            "how_to_step": f"Hands using {name}, showing: {detail}" if detail else None,
            "benefit": f"{name} in everyday use, relaxed and natural ({shot})",
            "proof": f"{name} in a real home, used and trusted ({shot})",
            "offer": f"{name} on a clean surface, presented like a deal ({shot})",
            "comparison": f"{name} side by side with an ordinary alternative ({shot})",
            "before": f"The scene before {name}: cluttered and ordinary ({shot})",
            "after": f"The same scene after, with {name} in use: clean and calm ({shot})",
            "reveal": f"{name} lifted out of its packaging for the first time ({shot})",
        }
        described = by_role.get(slot.role)
        if described is None:
            return f"{name} in everyday use, relaxed and natural ({shot})"
        if feature is not None and slot.role in FEATURE_ROLES:
            return f"{described} ({shot})"
        return described


# Feature forms (full, short) travel through the candidate lists as a "#form:" prefix so one
# pattern list can offer "full with lead", "full bare", "short with lead", "short bare".
def _form_marker(pattern: str, form: int) -> str:
    return f"#{form}:{pattern}" if form else pattern


def _split_form(pattern: str) -> tuple[str, int]:
    if pattern.startswith("#") and ":" in pattern:
        head, rest = pattern[1:].split(":", 1)
        if head.isdigit():
            return rest, int(head)
    return pattern, 0


def _signature(script: Script) -> tuple[object, ...]:
    return (script.hook, tuple((s.on_screen_text, s.voiceover) for s in script.scenes))
