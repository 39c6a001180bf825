"""Whether a brief fits its template: the duration the template takes and the facts its slots
must show whole. Every script writer plans with these rules, and the API checks them when a
project is created or edited, so a brief that cannot render is refused before any work."""

from __future__ import annotations

import re

from pipeline.brief import Brief
from pipeline.errors import BriefError
from pipeline.templates.model import FEATURE_ROLES, LANGUAGES, Slot, Template

__all__ = ["check_fit", "feature_forms", "too_long"]

# Where a feature's essential head ends and its details begin.
_CLAUSE_BREAK = re.compile(r"\s*(?:[,;:(]|\s[-–—]\s)")


def feature_forms(feature: str) -> tuple[str, ...]:
    """The feature, then its head clause if it has details after a comma, colon or dash."""
    full = feature.strip().rstrip(".")
    forms = [full]
    match = _CLAUSE_BREAK.search(full)
    if match and match.start() >= 3:
        forms.append(full[: match.start()].rstrip(" ."))
    return tuple(dict.fromkeys(forms))


def too_long(template: Template, where: str, slot: Slot, got: int, hint: str = "") -> BriefError:
    """The error for a brief fact (``where``) longer than ``slot`` shows."""
    return BriefError(
        where,
        f"too long for template {template.name!r} slot {slot.name!r} "
        f"(max {slot.max_chars} characters, got {got}){hint}",
    )


def check_fit(brief: Brief, template: Template) -> None:
    """BriefError naming the field (``brand.locale``, ``duration``, ``product.name``,
    ``product.features[i]``) when ``brief`` cannot be written into ``template``."""
    language = brief.brand.language
    if language not in LANGUAGES:
        raise BriefError(
            "brand.locale",
            f"no script phrasing for language {language!r} (supported: {', '.join(LANGUAGES)})",
        )
    _check_duration(brief, template)
    _check_facts(brief, template)


def _check_duration(brief: Brief, t: Template) -> None:
    duration = brief.duration
    if t.minimum_seconds() > duration:
        raise BriefError(
            "duration",
            f"{duration:g} s is too short for template {t.name!r}: its {len(t.slots)} "
            f"scenes need at least {t.minimum_seconds():g} s",
        )
    if not t.min_duration <= duration <= t.max_duration:
        raise BriefError(
            "duration",
            f"template {t.name!r} takes {t.min_duration:g}-{t.max_duration:g} s, "
            f"got {duration:g} s",
        )


def _check_facts(brief: Brief, template: Template) -> None:
    # The hook is where the product gets named on screen, so the name must fit it whole.
    hook = template.slots[0]
    name = brief.product.name
    if len(name) > hook.max_chars:
        raise too_long(template, "product.name", hook, len(name))
    feature_slots = [s for s in template.slots if s.role in FEATURE_ROLES]
    if not feature_slots:
        return
    narrowest = min(feature_slots, key=lambda s: s.max_chars)
    for i, feature in enumerate(brief.product.features):
        forms = feature_forms(feature)
        if min(len(f) for f in forms) > narrowest.max_chars:
            raise too_long(
                template,
                f"product.features[{i}]",
                narrowest,
                len(forms[0]),
                "; shorten it or put details after a comma",
            )
