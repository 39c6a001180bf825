"""``reelforge render``, ``demo`` and ``compose``: a brief (or its batch of variants) into finished
ads, recorded in the database when there is one; the bundled example; saved timelines again."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pipeline.cli.common import (
    LOCAL_USER,
    console,
    fail,
    load_settings,
    print_table,
    progress_reporter,
    resolve_user,
)
from pipeline.errors import BadInput, ReelforgeError
from pipeline.formats import Format, parse_formats
from pipeline.render import Ports, RenderRequest, RenderResult, render

if TYPE_CHECKING:
    from pipeline.brief import Brief
    from pipeline.settings import Settings
    from pipeline.variants import VariantPlan

__all__ = ["compose_command", "demo_command", "render_command"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

RecordOption = Annotated[
    bool | None,
    typer.Option(
        "--record/--no-record",
        help="Record the render in the database (default: when DATABASE_URL is set or the "
        "embedded database exists).",
    ),
]
RenderUserOption = Annotated[
    str,
    typer.Option("--user", help="Who the render belongs to: an email (embedded) or a user id."),
]
ExportOption = Annotated[
    Path | None,
    typer.Option(
        "--export-timeline",
        help="Also save the composed timelines (JSON, with their media beside it) to FILE; "
        "`reelforge compose FILE` renders them again.",
        metavar="FILE",
    ),
]


def _ports(brief: Brief, settings: Settings) -> Ports:
    """The brief's providers (see ``reelforge providers``); offline without keys."""
    from pipeline import wiring

    return wiring.build_ports(brief, settings, wiring.local_runtime(settings))


def _run(request: RenderRequest, out: Path, ports: Ports) -> RenderResult:
    with progress_reporter() as reporter:
        return render(request.checked(prefix="--"), ports=ports, out_root=out, reporter=reporter)


def _output_rows(result: RenderResult) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for entry in result.manifest.outputs:
        loud = f"{entry.loudness_lufs:.1f} LUFS" if entry.loudness_lufs is not None else "silent"
        warnings = ", ".join(c.name for c in entry.qc.warnings)
        qc = (
            "passed" + (f" (warnings: {warnings})" if warnings else "")
            if entry.qc.passed
            else "FAILED"
        )
        rows.append((entry.format, str(result.out_dir / entry.path), f"{entry.width}x{entry.height}",
                     f"{entry.duration:.2f}s", loud, qc))  # fmt: skip
    return rows


def _summary(result: RenderResult) -> None:
    print_table(
        f"{result.manifest.sku} · {result.manifest.template}",
        ("format", "file", "size", "duration", "loudness", "qc"),
        _output_rows(result),
        plain_title=False,
    )
    stages = ", ".join(f"{k} {v:.2f}s" for k, v in result.manifest.stages.items())
    print(f"manifest: {result.out_dir / 'manifest.json'}\nstages: {stages}")


def _formats(formats: str | None) -> tuple[Format, ...] | None:
    try:
        return tuple(parse_formats(formats)) if formats is not None else None
    except ValueError as exc:
        raise BadInput("--formats", str(exc)) from None


def render_command(
    brief: Annotated[Path, typer.Argument(help="The brief file (YAML or JSON).")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write DIR/<sku>/ into.")],
    formats: Annotated[
        str | None,
        typer.Option("--formats", help="Comma-separated, e.g. 9x16,1x1 (default: the brief's)."),
    ] = None,
    option: Annotated[
        int | None, typer.Option("--option", help="Which script option to render (1-based).")
    ] = None,
    preview: Annotated[
        bool, typer.Option("--preview", help="A fast low-resolution draft.")
    ] = False,
    record: RecordOption = None,
    user: RenderUserOption = LOCAL_USER,
    export_timeline: ExportOption = None,
) -> None:
    """Render a brief into one MP4 per format, posters and a manifest."""
    from pipeline import wiring

    settings = load_settings()
    try:
        chosen = _formats(formats)
        request = RenderRequest(
            brief=wiring.load_brief(brief, settings),  # once: URL assets are fetched once
            option=option, formats=chosen, preview=preview, export_timeline=export_timeline,
        )  # fmt: skip
        results = _render_all(request, out, settings, user)
    except ReelforgeError as exc:
        raise fail(exc) from None
    for result in results:
        _summary(result)
        try:
            _record(result, settings, record=record, user=user)
        except ReelforgeError as exc:
            console.print(
                f"the render is in {result.out_dir}, but was not recorded",
                highlight=False,
                soft_wrap=True,
            )
            raise fail(exc) from None


def _render_all(
    request: RenderRequest, out: Path, settings: Settings, user: str
) -> list[RenderResult]:
    """The brief's one ad, or each variant of its batch into ``out/vNN-<template>/``."""
    batch = _variants(request.brief, settings, user)
    if batch is None:
        return [_run(request, out, _ports(request.brief, settings))]
    if request.option is not None:
        raise BadInput("--option", "a batch renders each variant's own script option")
    if request.export_timeline is not None:
        raise BadInput("--export-timeline", "exports the timelines of one ad, not of a batch")
    results = []
    for plan, variant in batch:
        console.print(
            f"variant {plan.index}: {plan.template}, script option {plan.option}",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
        variant_request = request.model_copy(update={"brief": variant, "option": plan.option})
        # fresh ports: each variant's manifest has its own spend
        results.append(_run(variant_request, out / plan.folder, _ports(variant, settings)))
    return results


def _variants(
    brief: Brief, settings: Settings, user: str
) -> list[tuple[VariantPlan, Brief]] | None:
    """The batch a brief asks for (``variants:``), each variant's plan and brief; None if none."""
    from pipeline.variants import plan_variants, variant_brief

    if brief.variants is None:
        return None
    count = brief.variants.count
    if brief.variants.mix == "recommended":
        templates = _recommended_mix(brief, settings, user, count)
    else:
        templates = (brief.template,) * count
    plans = plan_variants(brief, templates)
    return [(plan, variant_brief(brief, plan)) for plan in plans]


def _recommended_mix(brief: Brief, settings: Settings, user: str, count: int) -> tuple[str, ...]:
    """The templates of a batch, drawn from the user's performance data (shown on stderr)."""
    from pipeline.analytics.recommend import mix_for_brief, recommend
    from pipeline.cli.report import print_recommendation, user_dataset
    from pipeline.variants import fitting_templates

    creatives, rows = user_dataset(settings, user)
    spend: dict[str, Decimal] = {}
    for row in rows:  # rank in the currency most of the money was spent in
        spend[row.currency] = spend.get(row.currency, Decimal(0)) + row.spend
    rec = recommend(
        creatives, rows, variants=count, candidates=fitting_templates(brief),
        currency=max(spend, key=lambda c: spend[c]) if spend else None,
    )  # fmt: skip
    print_recommendation(rec, console)
    return mix_for_brief(brief, rec, variants=count)


def _record(result: RenderResult, settings: Settings, *, record: bool | None, user: str) -> None:
    """Record a finished render when a database is present (or asked for)."""
    from pipeline.store.database import open_store
    from pipeline.store.renders import record_render

    store_settings = settings.store
    if record is None:
        record = not store_settings.embedded or store_settings.pgdata.exists()
    if not record:
        return
    owner = resolve_user(store_settings, user)
    with open_store(store_settings) as store:
        recorded = record_render(
            store=store, manifest=result.manifest, out_dir=result.out_dir,
            user_id=owner.id, email=owner.email,
        )  # fmt: skip
    print(
        f"recorded: project {recorded.project_id}, job {recorded.job_id}, {len(recorded.render_ids)} renders"
    )


def demo_command(
    out: Annotated[Path, typer.Option("--out", help="Where to write the demo.")] = Path("out/demo"),
    preview: Annotated[
        bool, typer.Option("--preview", help="A fast low-resolution draft.")
    ] = False,
) -> None:
    """Render the bundled example brief into ./out/demo."""
    from pipeline.brief import load_brief

    brief = EXAMPLES / "espresso" / "brief.yaml"
    if not brief.is_file():
        raise fail(
            BadInput("demo", f"bundled example not found at {brief}; run from a source checkout")
        )
    try:
        offline = load_settings().offline()  # the demo never calls a paid provider
        loaded = load_brief(brief)
        result = _run(RenderRequest(brief=loaded, preview=preview), out, _ports(loaded, offline))
    except ReelforgeError as exc:
        raise fail(exc) from None
    _summary(result)


def compose_command(
    timeline: Annotated[
        Path, typer.Argument(help="A timeline file saved by `render --export-timeline`.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder to write <format>.mp4 into.")],
) -> None:
    """Compose saved timelines into MP4s again, without rerunning any other stage."""
    from pipeline.render.compose import compose_file

    try:
        entries = compose_file(timeline, out)
    except ReelforgeError as exc:
        raise fail(exc) from None
    for entry in entries:
        failed = ", ".join(c.name for c in entry.qc.failures)
        qc = "passed" if entry.qc.passed else f"FAILED ({failed})"
        print(f"{out / entry.path}  {entry.width}x{entry.height}  {entry.duration:.2f}s  qc {qc}")
