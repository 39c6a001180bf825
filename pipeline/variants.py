"""A batch of variants from one brief: which template and script option each variant gets.

With ``variants: {count: N, mix: recommended}`` the templates come from the recommendation over
the user's ad performance (Thompson sampling, pipeline/analytics/recommend.py), among the
templates whose length range fits the brief; templates without data are explored. A template
that appears more than once takes the next script option each time, so no two variants are the
same ad (and each gets its own creative id).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.brief import Brief
from pipeline.errors import BriefError
from pipeline.templates.registry import get_template, load_templates

MAX_OPTIONS = 8  # the most script options a brief may ask for

__all__ = ["VariantPlan", "fitting_templates", "plan_variants", "variant_brief"]


@dataclass(frozen=True)
class VariantPlan:
    index: int  # 1-based
    template: str
    option: int  # 1-based script option
    options: int  # script options the variant's brief writes (at least ``option``)

    @property
    def folder(self) -> str:
        return f"v{self.index:02d}-{self.template}"


def fitting_templates(brief: Brief) -> list[str]:
    """Templates whose length range holds the brief's duration."""
    return [
        name
        for name, t in load_templates().items()
        if t.min_duration <= brief.duration <= t.max_duration
    ]


def plan_variants(brief: Brief, templates: Sequence[str]) -> list[VariantPlan]:
    """One plan per template in ``templates`` (the mix, one entry per variant).

    The k-th repeat of a template renders script option k, so a template repeated more often
    than the brief's ``options`` has more options written for it (up to the 8 a brief allows):
    two variants are never the same ad under one creative id.
    """
    fitting = set(fitting_templates(brief))
    repeats = Counter(templates)
    for name, count in repeats.items():
        get_template(name)  # a BriefError on "template" if unknown
        if name not in fitting:
            raise BriefError(
                "variants", f"template {name!r} does not fit a {brief.duration:g} s ad"
            )
        if count > MAX_OPTIONS:
            raise BriefError(
                "variants",
                f"template {name!r} would make {count} variants, but one brief writes at most "
                f"{MAX_OPTIONS} different scripts for a template",
            )
    seen: Counter[str] = Counter()
    plans = []
    for i, name in enumerate(templates, start=1):
        seen[name] += 1
        plans.append(
            VariantPlan(
                index=i, template=name, option=seen[name],
                options=max(brief.options, repeats[name]),
            )
        )  # fmt: skip
    return plans


def variant_brief(brief: Brief, plan: VariantPlan) -> Brief:
    """The brief of one variant: its template, enough script options, no batch."""
    return brief.model_copy(
        update={"template": plan.template, "options": plan.options, "variants": None}
    )
