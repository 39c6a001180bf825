"""Analytics benchmark: building the performance report, the bootstrap of a median and the template
recommendation over synthetic datasets of 1,000 and 10,000 creatives (7 daily rows each).

    python bench/analytics_bench.py
    python bench/analytics_bench.py --creatives 1000 10000 50000 --days 7
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.analytics.synthetic

from pipeline.analytics.recommend import recommend
from pipeline.analytics.report import build_report
from pipeline.analytics.stats import Bootstrap, bootstrap_medians
from tests.analytics.synthetic import DEFAULT_ARMS, Arm, generate

T = TypeVar("T")


def timed(fn: Callable[[], T], repeat: int = 3) -> tuple[float, T]:
    """The best of ``repeat`` runs, in seconds, and the last result."""
    best = float("inf")
    result: T
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def bench(creatives: int, days: int) -> None:
    per_arm = creatives // 3
    arms = [Arm(a.template, a.ctr, per_arm, a.durations) for a in DEFAULT_ARMS[:3]]
    started = time.perf_counter()
    data = generate(arms, days=days)
    made = time.perf_counter() - started
    n, rows = len(data.creatives), len(data.rows)
    print(f"\n{n:,} creatives, {rows:,} rows (generated in {made:.1f} s)")

    one, _ = timed(lambda: build_report(data.creatives, data.rows, by="template"))
    every, report = timed(lambda: build_report(data.creatives, data.rows))
    groups = sum(len(s.groups) for s in report.attributes)
    print(f"  report --by template      {one * 1000:8.0f} ms")
    print(f"  report, all 6 attributes  {every * 1000:8.0f} ms  ({groups} groups x 6 metrics)")

    rec, _ = timed(lambda: recommend(data.creatives, data.rows, variants=10))
    print(f"  recommend --variants 10   {rec * 1000:8.0f} ms")

    values = np.sort(np.random.default_rng(0).lognormal(-4.5, 0.3, size=n))
    resamples = Bootstrap().resamples
    fast, _ = timed(
        lambda: bootstrap_medians(values, np.random.default_rng(1), resamples), repeat=5
    )
    naive, _ = timed(
        lambda: np.median(
            values[np.random.default_rng(1).integers(0, n, size=(resamples, n))], axis=1
        ),
        repeat=1,
    )
    print(
        f"  bootstrap median, {resamples:,} resamples of {n:,}: order statistics "
        f"{fast * 1000:.2f} ms, resample-and-sort {naive * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creatives", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()
    for creatives in args.creatives:
        bench(creatives, args.days)


if __name__ == "__main__":
    main()
