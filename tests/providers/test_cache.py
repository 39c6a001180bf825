"""The content-addressed provider cache, the price table and the usage meter."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline.errors import BadInput
from pipeline.providers.cache import ProviderCache, cache_key
from pipeline.providers.claimant import ClaimPolicy
from pipeline.providers.prices import PRICES_ENV, PriceTable, default_prices
from pipeline.providers.usage import UsageMeter

QUICK = ClaimPolicy(first_poll=0.01, max_poll=0.05)


def test_key_depends_on_every_part_of_the_question(tmp_path: Path) -> None:
    photo = tmp_path / "p.jpg"
    photo.write_bytes(b"photo-1")
    base = cache_key(
        "kling", "v2", prompt="a cup", params={"aspect": "9:16"}, seed=1, inputs=[photo]
    )
    assert base == cache_key(
        "kling", "v2", prompt="a cup", params={"aspect": "9:16"}, seed=1, inputs=[photo]
    )
    variants = [
        cache_key("fal", "v2", prompt="a cup", params={"aspect": "9:16"}, seed=1, inputs=[photo]),
        cache_key("kling", "v3", prompt="a cup", params={"aspect": "9:16"}, seed=1, inputs=[photo]),
        cache_key("kling", "v2", prompt="a mug", params={"aspect": "9:16"}, seed=1, inputs=[photo]),
        cache_key("kling", "v2", prompt="a cup", params={"aspect": "16:9"}, seed=1, inputs=[photo]),
        cache_key("kling", "v2", prompt="a cup", params={"aspect": "9:16"}, seed=2, inputs=[photo]),
        cache_key(
            "kling", "v2", prompt="a cup", params={"aspect": "9:16"}, seed=1, inputs=[b"photo-2"]
        ),
    ]
    assert len({base, *variants}) == 7
    # the same bytes under another name are the same input
    assert base == cache_key(
        "kling", "v2", prompt="a cup", params={"aspect": "9:16"}, seed=1, inputs=[b"photo-1"]
    )
    # parameter order does not matter
    assert cache_key("x", "m", params={"a": 1, "b": 2}) == cache_key(
        "x", "m", params={"b": 2, "a": 1}
    )


def test_put_then_get_round_trip_and_absent_keys(tmp_path: Path) -> None:
    cache = ProviderCache(tmp_path / "cache")
    key = cache_key("kling", "v2", prompt="x")
    assert cache.get(key) is None
    src = tmp_path / "clip.MP4"
    src.write_bytes(b"video")
    entry = cache.put(key, src, provider="kling", model="v2", meta={"task_id": "t1"})
    assert entry.path.read_bytes() == b"video"
    assert entry.path.suffix == ".mp4"
    again = cache.get(key)
    assert again is not None and again.meta == {"task_id": "t1"} and again.provider == "kling"
    assert not list((tmp_path / "cache").rglob("*.part"))


def test_an_entry_without_its_record_or_file_is_absent(tmp_path: Path) -> None:
    cache = ProviderCache(tmp_path)
    key = cache_key("a", "b")
    src = tmp_path / "x.png"
    src.write_bytes(b"img")
    entry = cache.put(key, src, provider="a", model="b")
    entry.path.unlink()
    assert cache.get(key) is None
    with pytest.raises(ValueError, match="not a cache key"):
        cache.get("../../etc/passwd")


def test_a_claim_lets_one_maker_across_threads_and_the_others_find_its_asset(
    tmp_path: Path,
) -> None:
    cache = ProviderCache(tmp_path, policy=QUICK)
    key = cache_key("p", "m", prompt="same")
    made: list[int] = []
    held: list[bool] = []
    src = tmp_path / "a.bin"
    src.write_bytes(b"asset")

    async def job(n: int) -> None:
        async with cache.aclaim(key, provider="p") as holds:
            held.append(holds)
            if cache.get(key) is None:
                time.sleep(0.05)
                made.append(n)
                cache.put(key, src, provider="p", model="m")

    threads = [threading.Thread(target=asyncio.run, args=(job(n),)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(made) == 1
    assert held.count(True) >= 1 and len(held) == 6


def test_claims_serialise_coroutines_until_the_asset_exists(tmp_path: Path) -> None:
    cache = ProviderCache(tmp_path, policy=QUICK)
    key = cache_key("p", "m", prompt="async")
    inside = 0
    most = 0

    async def one() -> None:
        nonlocal inside, most
        async with cache.aclaim(key, provider="p"):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    async def main() -> None:
        await asyncio.gather(*(one() for _ in range(5)))

    asyncio.run(main())
    assert most == 1


def test_prices_fall_back_to_the_provider_row_and_refuse_unknown_providers() -> None:
    table = PriceTable.parse(
        {
            "kling": {
                "*": {"unit": "second", "credits": 7},
                "kling-v2-master": {"unit": "second", "credits": 28},
            }
        },
        where="test",
    )
    assert table.price("kling", "kling-v2-master").credits == 28
    assert table.price("kling", "anything").credits == 7
    with pytest.raises(BadInput, match="no prices configured for provider 'fal'"):
        table.price("fal", "x")
    with pytest.raises(BadInput, match=r"kling\.\*\.unit"):
        PriceTable.parse({"kling": {"*": {"unit": "hour", "credits": 1}}}, where="test")


def test_bundled_prices_cover_every_provider() -> None:
    table = default_prices()
    for provider in (
        "openrouter",
        "openai",
        "gemini",
        "kling",
        "fal",
        "elevenlabs",
        "pexels",
        "heygen",
    ):
        table.price(provider, "some-model")


def test_prices_from_the_settings(tmp_path: Path) -> None:
    from pipeline.settings import Settings
    from pipeline.wiring.runtime import prices

    path = tmp_path / "prices.yaml"
    path.write_text("kling:\n  '*': {unit: second, credits: 1.5}\n", encoding="utf-8")
    settings = Settings.from_env({PRICES_ENV: str(path)})
    assert prices(settings).price("kling", "x").credits == Decimal("1.5")
    assert prices(Settings.from_env({})).price("kling", "x").credits == Decimal("7")
    with pytest.raises(BadInput, match="cannot read price table"):
        default_prices(tmp_path / "missing.yaml")


def test_meter_sums_paid_calls_and_counts_cache_hits_as_free() -> None:
    table = PriceTable.parse(
        {
            "kling": {"*": {"unit": "second", "credits": 7}},
            "elevenlabs": {"*": {"unit": "1k_chars", "credits": 18}},
        },
        where="test",
    )
    meter = UsageMeter(table)
    meter.record("kling", "v2", 5, what="scene 1", task_id="t1")
    meter.record("elevenlabs", "multi", 0.05, what="voice")
    meter.cached("kling", "v2", what="scene 2")
    assert meter.calls == 2
    assert meter.credits == 36  # 35 + 0.9, rounded up
    assert [u.cached for u in meter.usages] == [False, False, True]
    assert meter.usages[2].credits == 0


def test_meter_log_carries_spend_across_attempts(tmp_path: Path) -> None:
    table = PriceTable.parse({"kling": {"*": {"unit": "second", "credits": 7}}}, where="test")
    log = tmp_path / "work" / "usage.jsonl"
    first = UsageMeter(table, log=log)
    first.record("kling", "v2", 5, what="scene 0", task_id="t1")
    with log.open("a", encoding="utf-8") as f:
        f.write('{"torn": ')  # a crash mid-line
    resumed = UsageMeter(table, log=log)
    assert resumed.credits == 35 and resumed.calls == 1
    resumed.cached("kling", "v2", what="scene 0")
    resumed.record("kling", "v2", 10, what="scene 1")
    again = UsageMeter(table, log=log)
    assert again.credits == 105 and [u.cached for u in again.usages] == [False, True, False]


def test_a_json_asset_does_not_collide_with_its_record(tmp_path: Path) -> None:
    cache = ProviderCache(tmp_path / "cache")
    key = cache_key("openrouter", "m", prompt="scripts")
    src = tmp_path / "reply.json"
    src.write_text('{"scripts": []}', encoding="utf-8")
    entry = cache.put(key, src, provider="openrouter", model="m", meta={"tokens": 10})
    assert entry.path.name == f"{key}.asset.json"
    again = cache.get(key)
    assert again is not None and again.path.read_text(encoding="utf-8") == '{"scripts": []}'
    assert again.meta == {"tokens": 10}


def test_containers_with_no_common_disk_share_entries_through_the_blob_store(
    tmp_path: Path,
) -> None:
    from pipeline.storage import MemoryStore

    shared = MemoryStore()
    here = ProviderCache(tmp_path / "container-a", shared=shared)
    there = ProviderCache(tmp_path / "container-b", shared=shared)
    key = cache_key("kling", "v2", prompt="a cup")
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"video bytes")
    here.put(key, clip, provider="kling", model="v2", meta={"task_id": "t1"})
    found = there.get(key)
    assert found is not None and found.path.read_bytes() == b"video bytes"
    assert found.path.is_relative_to(tmp_path / "container-b")
    assert found.meta == {"task_id": "t1"} and found.provider == "kling"
    assert there.get(cache_key("kling", "v2", prompt="another cup")) is None


def _make_in_a_process(root: str, key: str, made: str) -> None:
    """One job in its own process: claims ``key`` and makes the asset unless it is there."""
    cache = ProviderCache(Path(root), policy=QUICK)

    async def job() -> None:
        async with cache.aclaim(key, provider="p"):
            if cache.get(key) is None:
                with open(made, "a", encoding="utf-8") as f:
                    f.write(f"{os.getpid()}\n")
                time.sleep(0.3)
                src = Path(root) / f"src-{os.getpid()}.bin"
                src.write_bytes(b"asset")
                cache.put(key, src, provider="p", model="m")

    asyncio.run(job())


def test_without_a_database_processes_on_one_machine_make_an_asset_once(tmp_path: Path) -> None:
    """The command line keeps a file lock per key: four processes, one maker."""
    key = cache_key("p", "m", prompt="processes")
    made = tmp_path / "made.txt"
    spawn = multiprocessing.get_context("spawn")
    processes = [
        spawn.Process(target=_make_in_a_process, args=(str(tmp_path / "cache"), key, str(made)))
        for _ in range(4)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    assert [p.exitcode for p in processes] == [0] * 4
    assert len(made.read_text().splitlines()) == 1
