"""A chat model's reply read as scripts and checked against the plan it was given.

A reply must parse as ``{"scripts": [...]}``, each item a valid :class:`Script`, and keep our own
rules: the plan's options, slots, kinds, photos and durations, the character limits of the
template's slots, the voice-over word budgets, and a distinct hook per option. What fails comes
back as :class:`InvalidReply`, its errors in plain words for the one repair call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from pydantic import ValidationError

from pipeline.script.model import SceneKind, Script
from pipeline.script.offline import spoken_words, word_budget
from pipeline.templates.model import Slot, Template

__all__ = ["InvalidReply", "ReplyChecker"]

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


class InvalidReply(Exception):
    """A reply that does not pass validation; ``errors`` in plain words, most important first."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors) or ["the reply is invalid"]
        super().__init__(self.errors[0])


class ReplyChecker:
    """Parses a reply into scripts and checks them against the plan; InvalidReply says why not."""

    def __init__(
        self, plan: Sequence[Script], template: Template, language: str, rate: int | None = None
    ) -> None:
        self.plan = tuple(plan)
        self.slots: dict[str, Slot] = {s.name: s for s in template.slots}
        self.language = language
        self.rate = rate  # the brief's voice.rate: a slower voice fits fewer words

    def check(self, text: str | None, *, finish_reason: str | None = None) -> tuple[Script, ...]:
        cut = finish_reason == "length"
        if not text or not text.strip():
            raise InvalidReply(["the reply was empty"])
        match = _FENCE.match(text)
        try:
            data = json.loads(match.group(1) if match else text)
        except ValueError as exc:
            why = "was cut off at the length limit" if cut else f"is not valid JSON ({exc})"
            raise InvalidReply([f"the reply {why}"]) from None
        items = data.get("scripts") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise InvalidReply(['the reply must be a JSON object {"scripts": [...]}'])
        n = len(self.plan)
        errors: list[str] = []
        if len(items) != n:
            errors.append(f"expected {n} scripts (options 1 to {n}), got {len(items)}")
        scripts: list[Script] = []
        for i, (item, expected) in enumerate(zip(items, self.plan, strict=False)):
            try:
                script = Script.model_validate(item)
            except ValidationError as exc:
                errors.extend(_plain(exc, f"option {i + 1}"))
                continue
            errors.extend(self._against_plan(script, expected))
            scripts.append(script)
        seen: dict[str, int] = {}
        for script in scripts:
            hook = " ".join(script.hook.lower().split())
            if hook in seen:
                errors.append(
                    f"option {script.option} repeats the hook of option {seen[hook]} "
                    f"({script.hook!r}); every option needs its own"
                )
            seen.setdefault(hook, script.option)
        if errors:
            raise InvalidReply(errors)
        return tuple(scripts)

    def _against_plan(self, script: Script, expected: Script) -> list[str]:
        where = f"option {expected.option}"
        errors = [
            f"{where}: {name} must be {want!r}, got {got!r}"
            for name, got, want in (
                ("option", script.option, expected.option),
                ("template", script.template, expected.template),
                ("locale", script.locale, expected.locale),
                ("angle", script.angle, expected.angle),
            )
            if got != want
        ]
        if len(script.scenes) != len(expected.scenes):
            errors.append(
                f"{where} has {len(script.scenes)} scenes; the plan has {len(expected.scenes)}"
            )
            return errors
        first, end = self.slots[expected.scenes[0].slot], self.slots[expected.scenes[-1].slot]
        if len(script.hook) > first.max_chars:
            errors.append(
                f"{where}: the hook has {len(script.hook)} characters, more than the "
                f"{first.max_chars} the first scene shows"
            )
        if len(script.cta) > end.max_chars:
            errors.append(
                f"{where}: the call to action has {len(script.cta)} characters, more than the "
                f"{end.max_chars} the end card shows"
            )
        for scene, plan in zip(script.scenes, expected.scenes, strict=True):
            at = f"{where} scene {plan.index + 1}"
            for name, got, want in (
                ("slot", scene.slot, plan.slot),
                ("kind", scene.kind.value, plan.kind.value),
                ("photo", scene.photo, plan.photo),
            ):
                if got != want:
                    errors.append(f"{at}: {name} must be {want!r} as planned, got {got!r}")
            if abs(scene.duration - plan.duration) > 0.011:
                errors.append(f"{at}: duration must be {plan.duration:g} s, got {scene.duration:g}")
            slot = self.slots.get(plan.slot)
            limit = slot.max_chars if slot else 0
            if len(scene.on_screen_text) > limit:
                errors.append(
                    f"{at}: on-screen text has {len(scene.on_screen_text)} characters, more "
                    f"than the {limit} that fit ({scene.on_screen_text!r})"
                )
            if plan.kind is not SceneKind.PHOTO and not scene.on_screen_text.strip():
                errors.append(f"{at}: a {plan.kind.value} needs on-screen text")
            budget = word_budget(plan.duration, self.language, self.rate)
            words = spoken_words(scene.voiceover)
            if words > budget:
                errors.append(
                    f"{at}: the voice-over has {words} spoken words, more than the {budget} "
                    f"that fit in {plan.duration:g} s ({scene.voiceover!r})"
                )
        return errors


def _plain(exc: ValidationError, where: str) -> list[str]:
    out = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        out.append(f"{where}: {path}: {message}" if path else f"{where}: {message}")
    return out
