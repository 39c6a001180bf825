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

__all__ = ["VariantPlan", "fitting_templates", "plan_variants", "variant_brief"]


@dataclass(frozen=True)
class VariantPlan:
    index: int  # 1-based
    template: str
    option: int  # 1-based script option

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
    """One plan per template in ``templates`` (the mix, one entry per variant)."""
    fitting = set(fitting_templates(brief))
    seen: Counter[str] = Counter()
    plans = []
    for i, name in enumerate(templates, start=1):
        get_template(name)  # a BriefError on "template" if unknown
        if name not in fitting:
            raise BriefError(
                "variants", f"template {name!r} does not fit a {brief.duration:g} s ad"
            )
        plans.append(VariantPlan(index=i, template=name, option=seen[name] % brief.options + 1))
        seen[name] += 1
    return plans


def variant_brief(brief: Brief, plan: VariantPlan) -> Brief:
    """The brief of one variant: its template, no batch."""
    return brief.model_copy(update={"template": plan.template, "variants": None})
