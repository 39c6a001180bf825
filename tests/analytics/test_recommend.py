"""The template mix: Thompson sampling favours the better template, thin and untested templates
are explored and said to be, and a brief's variants can take the mix."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline.analytics.recommend import EXPLORATION_SHARE, allocate, mix_for_brief, recommend
from pipeline.brief import load_brief
from pipeline.errors import BadInput, BriefError
from tests.analytics.synthetic import Arm, Dataset, generate, lucky_hook


@pytest.fixture(scope="module")
def data() -> Dataset:
    return generate()


def test_the_better_template_gets_most_variants_and_says_why(data: Dataset) -> None:
    rec = recommend(data.creatives, data.rows, variants=10)
    mix = Counter(rec.mix())
    assert sum(mix.values()) == 10
    assert mix.most_common(1)[0][0] == "before_after"
    assert mix["before_after"] >= 7
    assert mix["lifestyle_story"] == 0  # the worst ranked template is not exploited
    lines = {t.template: t.reason for t in rec.templates}
    assert set(lines) == {"before_after", "lifestyle_story", "product_showcase", "unboxing"}
    assert lines["before_after"].startswith(f"before_after: {mix['before_after']} of 10 — highest")
    assert "median CTR" in lines["before_after"] and "over 40 creatives" in lines["before_after"]
    assert "(90% " in lines["before_after"]
    assert "behind before_after" in lines["lifestyle_story"]
    assert rec.templates[0].template == "before_after"


def test_a_thin_template_is_explored_and_explained_as_such(data: Dataset) -> None:
    rec = recommend(data.creatives, data.rows, variants=10)
    unboxing = next(t for t in rec.templates if t.template == "unboxing")
    assert not unboxing.competing
    assert unboxing.variants == 1
    assert "exploring, too little data to rank" in unboxing.reason
    assert "impressions" in unboxing.reason


def test_a_template_thin_on_the_metric_is_explored_not_exploited() -> None:
    data = lucky_hook()

    rec = recommend(data.creatives, data.rows, variants=10, metric="hook_rate")

    advice = {t.template: t for t in rec.templates}
    assert advice["tpl_b"].competing and advice["tpl_b"].variants == 9
    lucky = advice["tpl_a"]
    assert not lucky.competing and lucky.variants == 1
    assert (lucky.impressions, lucky.metric_impressions) == (12_000, 2000)
    assert "exploring, too little data to rank: 1 creative measured for hook rate" in lucky.reason
    assert "over 1 creative, 2,000 impressions with 3-second plays counted" in lucky.reason


def test_an_untested_candidate_is_explored_with_no_data_yet(data: Dataset) -> None:
    rec = recommend(
        data.creatives,
        data.rows,
        variants=10,
        candidates=["before_after", "lifestyle_story", "product_showcase", "unboxing", "ugc_hook"],
    )
    explored = {t.template: t for t in rec.templates if not t.competing}
    assert set(explored) == {"unboxing", "ugc_hook"}
    assert sum(t.variants for t in explored.values()) == round(EXPLORATION_SHARE * 10)
    assert "no data yet" in explored["ugc_hook"].reason
    assert explored["ugc_hook"].creatives == 0


def test_a_batch_of_one_is_all_exploitation(data: Dataset) -> None:
    rec = recommend(data.creatives, data.rows, variants=1)
    assert rec.mix() == ("before_after",)


def test_lower_is_better_for_cost_metrics(data: Dataset) -> None:
    rec = recommend(data.creatives, data.rows, variants=5, metric="cpc")
    assert rec.templates[0].template == "before_after"  # highest CTR at the same CPM: lowest CPC
    assert "lowest median CPC" in rec.templates[0].reason


def test_the_recommendation_is_reproducible(data: Dataset) -> None:
    first = recommend(data.creatives, data.rows, variants=7, seed=3)
    assert recommend(data.creatives, data.rows, variants=7, seed=3) == first


def test_without_enough_data_anywhere_every_template_is_explored_evenly() -> None:
    thin = generate(
        [
            Arm("before_after", 0.014, 3, (8, 14), impressions_median=500),
            Arm("lifestyle_story", 0.010, 3, (31, 45), impressions_median=500),
        ]
    )
    rec = recommend(thin.creatives, thin.rows, variants=4)
    assert Counter(rec.mix()) == {"before_after": 2, "lifestyle_story": 2}
    assert all("exploring" in t.reason for t in rec.templates)


def test_bad_variants_and_no_templates_are_refused() -> None:
    with pytest.raises(BadInput) as raised:
        recommend([], [], variants=0)
    assert raised.value.where == "variants"
    with pytest.raises(BadInput):
        recommend([], [], variants=3)


def test_largest_remainder_allocation_is_exact_and_deterministic() -> None:
    assert allocate({"a": 0.5, "b": 0.3, "c": 0.2}, 10) == {"a": 5, "b": 3, "c": 2}
    assert allocate({"a": 0.34, "b": 0.33, "c": 0.33}, 2) == {"a": 1, "b": 1, "c": 0}
    assert allocate({"a": 0.0, "b": 0.0}, 3) == {"a": 2, "b": 1}
    assert sum(allocate({"a": 0.91, "b": 0.06, "c": 0.03}, 7).values()) == 7


def test_a_brief_takes_the_mix_for_its_variants(
    data: Dataset,
    brief_data: dict[str, Any],
    write_brief: Callable[[dict[str, Any]], Path],
) -> None:
    brief = load_brief(write_brief(brief_data | {"options": 3}))
    rec = recommend(data.creatives, data.rows, variants=10)
    mix = mix_for_brief(brief, rec)
    assert len(mix) == 3 and mix[0] == "before_after"
    assert mix_for_brief(brief, rec, variants=10) == rec.mix()
    assert mix_for_brief(brief, None) == (brief.template,) * 3

    renamed = generate([Arm("space_opera", 0.01, 6, (10, 20))])
    unknown = recommend(renamed.creatives, renamed.rows, variants=3)
    with pytest.raises(BriefError) as raised:
        mix_for_brief(brief, unknown)
    assert raised.value.where == "template"
