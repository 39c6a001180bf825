"""The ``reelforge`` command line: render briefs, the bundled demo, and the template catalogue."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline.brief import Brief, load_brief
from pipeline.errors import BadInput, ReelforgeError
from pipeline.formats import parse_formats
from pipeline.render import Ports, RenderRequest, RenderResult, render

if TYPE_CHECKING:
    from pipeline.variants import VariantPlan

__all__ = ["app"]

app = typer.Typer(
    name="reelforge",
    help="Turn a product brief into finished video ads for every placement.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)


def _db_app() -> typer.Typer:
    from pipeline.store.cli import db_app

    return db_app


app.add_typer(_db_app(), name="db", help="The database: migrate, status.")


def _analytics_app() -> typer.Typer:
    from pipeline.analytics.cli import analytics_app

    return analytics_app


app.add_typer(_analytics_app(), name="analytics", help="Ad performance: import reports, creatives.")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


class RichReporter:
    """Shows one progress line per pipeline stage."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def started(self, stage: str) -> None:
        self._tasks[stage] = self._progress.add_task(stage, total=1.0)

    def advanced(self, stage: str, fraction: float) -> None:
        if stage in self._tasks:
            self._progress.update(self._tasks[stage], completed=fraction)

    def finished(self, stage: str, seconds: float) -> None:
        task = self._tasks.get(stage)
        if task is not None:
            self._progress.update(
                task, completed=1.0, description=f"{stage} [dim]{seconds:.2f}s[/]"
            )


def _fail(exc: ReelforgeError) -> typer.Exit:
    code = 2 if isinstance(exc, BadInput) else 1
    console.print(
        f"[bold red]error[/]: {exc.message}", markup=True, highlight=False, soft_wrap=True
    )
    return typer.Exit(code)


def _ports(brief: Brief) -> Ports:
    """The brief's providers (see ``reelforge providers``); offline without keys."""
    from pipeline.providers.registry import build_ports, local_runtime
    from pipeline.providers.settings import ProviderSettings

    settings = ProviderSettings()
    return build_ports(brief, settings, local_runtime(settings))


def _run(request: RenderRequest, out: Path, ports: Ports) -> RenderResult:
    progress = Progress(
        TextColumn("{task.description:<28}"), BarColumn(), TimeElapsedColumn(),
        console=console, transient=False, disable=not console.is_terminal,
    )  # fmt: skip
    with progress:
        return render(
            request.checked(prefix="--"), ports=ports, out_root=out,
            reporter=RichReporter(progress),
        )  # fmt: skip


def _summary(result: RenderResult) -> None:
    out = Console()
    rows = []
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
    if out.is_terminal:
        table = Table(title=f"{result.manifest.sku} · {result.manifest.template}")
        for column in ("format", "file", "size", "duration", "loudness", "qc"):
            table.add_column(column)
        for row in rows:
            table.add_row(*row)
        out.print(table)
    else:  # plain lines for logs and pipes: no truncated table cells
        for row in rows:
            print("  ".join(row))
    stages = ", ".join(f"{k} {v:.2f}s" for k, v in result.manifest.stages.items())
    print(f"manifest: {result.out_dir / 'manifest.json'}\nstages: {stages}")


@app.command("render")
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
    record: Annotated[
        bool | None,
        typer.Option(
            "--record/--no-record",
            help="Record the render in the database (default: when DATABASE_URL is set or the "
            "embedded database exists).",
        ),
    ] = None,
    user: Annotated[
        str,
        typer.Option("--user", help="Who the render belongs to: an email (embedded) or a user id."),
    ] = "local@reelforge.invalid",
    export_timeline: Annotated[
        Path | None,
        typer.Option(
            "--export-timeline",
            help="Also save the composed timelines (JSON, with their media beside it) to FILE; "
            "`reelforge compose FILE` renders them again.",
            metavar="FILE",
        ),
    ] = None,
) -> None:
    """Render a brief into one MP4 per format, posters and a manifest."""
    try:
        chosen = tuple(parse_formats(formats)) if formats is not None else None
    except ValueError as exc:
        raise _fail(BadInput("--formats", str(exc))) from None
    try:
        loaded = _load_brief(brief)  # once: URL assets are fetched once
        request = RenderRequest(
            brief=loaded, option=option, formats=chosen, preview=preview,
            export_timeline=export_timeline,
        )  # fmt: skip
        results = _render_all(request, out, user)
    except ReelforgeError as exc:
        raise _fail(exc) from None
    for result in results:
        _summary(result)
        try:
            _record(result, record=record, user=user)
        except ReelforgeError as exc:
            console.print(
                f"the render is in {result.out_dir}, but was not recorded",
                highlight=False,
                soft_wrap=True,
            )
            raise _fail(exc) from None


def _load_brief(path: Path) -> Brief:
    """The brief at ``path`` with its http(s) files downloaded into the asset cache first."""
    from pipeline.download import load_brief_fetching

    return load_brief_fetching(path)


def _render_all(request: RenderRequest, out: Path, user: str) -> list[RenderResult]:
    """The brief's one ad, or each variant of its batch into ``out/vNN-<template>/``."""
    batch = _variants(request.brief, user)
    if batch is None:
        return [_run(request, out, _ports(request.brief))]
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
        results.append(_run(variant_request, out / plan.folder, _ports(variant)))
    return results


def _variants(brief: Brief, user: str) -> list[tuple[VariantPlan, Brief]] | None:
    """The batch a brief asks for (``variants:``), each variant's plan and brief; None if none."""
    from pipeline.variants import fitting_templates, plan_variants, variant_brief

    if brief.variants is None:
        return None
    count = brief.variants.count
    if brief.variants.mix == "recommended":
        from pipeline.analytics.recommend import mix_for_brief, recommend
        from pipeline.analytics.report_cli import print_recommendation, user_dataset

        creatives, rows = user_dataset(user)
        spend: dict[str, Decimal] = {}
        for row in rows:  # rank in the currency most of the money was spent in
            spend[row.currency] = spend.get(row.currency, Decimal(0)) + row.spend
        rec = recommend(
            creatives, rows, variants=count, candidates=fitting_templates(brief),
            currency=max(spend, key=lambda c: spend[c]) if spend else None,
        )  # fmt: skip
        print_recommendation(rec, console)
        templates = mix_for_brief(brief, rec, variants=count)
    else:
        templates = (brief.template,) * count
    plans = plan_variants(brief, templates)
    return [(plan, variant_brief(brief, plan)) for plan in plans]


def _record(result: RenderResult, *, record: bool | None, user: str) -> None:
    """Record a finished render when a database is present (or asked for)."""
    from uuid import UUID

    from pipeline.store.database import open_store
    from pipeline.store.renders import local_user_id, record_render
    from pipeline.store.settings import StoreSettings

    settings = StoreSettings()
    if record is None:
        record = not settings.embedded or settings.pgdata.exists()
    if not record:
        return
    email: str | None = None
    if settings.embedded:
        # The embedded database's auth.users is ours to fill; a hosted one's users sign up there.
        email, user_id = user, local_user_id(user)
    else:
        try:
            user_id = UUID(user)
        except ValueError:
            raise BadInput("--user", "with DATABASE_URL, give the user's id (a UUID)") from None
    with open_store(settings) as store:
        recorded = record_render(
            store=store,
            manifest=result.manifest,
            out_dir=result.out_dir,
            user_id=user_id,
            email=email,
        )
    print(
        f"recorded: project {recorded.project_id}, job {recorded.job_id}, {len(recorded.render_ids)} renders"
    )


@app.command("demo")
def demo_command(
    out: Annotated[Path, typer.Option("--out", help="Where to write the demo.")] = Path("out/demo"),
    preview: Annotated[
        bool, typer.Option("--preview", help="A fast low-resolution draft.")
    ] = False,
) -> None:
    """Render the bundled example brief into ./out/demo."""
    brief = EXAMPLES / "espresso" / "brief.yaml"
    if not brief.is_file():
        raise _fail(
            BadInput("demo", f"bundled example not found at {brief}; run from a source checkout")
        )
    try:
        result = _run(RenderRequest(brief=load_brief(brief), preview=preview), out, Ports())
    except ReelforgeError as exc:
        raise _fail(exc) from None
    _summary(result)


@app.command("compose")
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
        raise _fail(exc) from None
    for entry in entries:
        failed = ", ".join(c.name for c in entry.qc.failures)
        qc = "passed" if entry.qc.passed else f"FAILED ({failed})"
        print(f"{out / entry.path}  {entry.width}x{entry.height}  {entry.duration:.2f}s  qc {qc}")


@app.command("token")
def token_command(
    user: Annotated[str, typer.Option("--user", help="The developer's email.")],
) -> None:
    """Mint a development API token; on the embedded database the user is created with credits."""
    from pipeline.api import mint_dev_token
    from pipeline.store.settings import StoreSettings

    settings = StoreSettings()
    if settings.embedded:
        from pipeline.service import ensure_dev_user
        from pipeline.store.database import open_store

        try:
            with open_store(settings) as store:
                ensure_dev_user(store, user)
        except ReelforgeError as exc:
            raise _fail(exc) from None
    print(mint_dev_token(user, home=settings.home.expanduser()))


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Local render workers (0: API only).", min=0, max=32)
    ] = 2,
) -> None:
    """Run the API, the render workers and the database together (Ctrl-C stops them all)."""
    from pipeline.service import serve

    try:
        serve(host=host, port=port, workers=workers)
    except ReelforgeError as exc:
        raise _fail(exc) from None


@app.command("providers")
def providers_command(
    brief: Annotated[
        Path | None, typer.Option("--brief", help="Show what this brief's render would use.")
    ] = None,
    heygen: Annotated[
        bool,
        typer.Option("--heygen", help="List HeyGen's avatars and voices (needs HEYGEN_API_KEY)."),
    ] = False,
) -> None:
    """What is configured, and which provider each stage will use."""
    if heygen:
        _heygen_listing()
        return
    from pipeline.providers.registry import KEYS, choices, has_key
    from pipeline.providers.settings import ProviderSettings

    settings = ProviderSettings()
    try:
        chosen = choices(load_brief(brief) if brief else None, settings)
    except ReelforgeError as exc:
        raise _fail(exc) from None
    out = Console()
    stages = Table(title="stages")
    for column in ("stage", "provider", "model", "chosen by", "ready"):
        stages.add_column(column)
    why = {
        "brief": "the brief",
        "settings": "settings",
        "key": "its key is set",
        "default": "no key: offline",
    }
    for choice in chosen.values():
        if choice.provider == "none":
            ready = "only a voice.file needs one: set ELEVENLABS_API_KEY"
        else:
            ready = "yes" if choice.key_set else f"no: set {' and '.join(KEYS[choice.provider])}"
        stages.add_row(choice.stage, choice.provider, choice.model or "default",
                       why.get(choice.source, choice.source), ready)  # fmt: skip
    keys = Table(title="providers")
    for column in ("provider", "key", "variables"):
        keys.add_column(column)
    for name, variables in KEYS.items():
        keys.add_row(name, "set" if has_key(settings, name) else "-", ", ".join(variables))
    out.print(stages)
    out.print(keys)


def _heygen_client() -> httpx.AsyncClient | None:
    """The HTTP client for HeyGen listings: the network (tests replace this seam)."""
    return None


def _heygen_listing() -> None:
    from pipeline.providers.heygen import HeyGenPresenter
    from pipeline.providers.settings import ProviderSettings
    from pipeline.providers.sync import run_sync

    try:
        presenter = HeyGenPresenter.from_settings(ProviderSettings(), client=_heygen_client())
        avatars = run_sync(presenter.list_avatars())
        voices = run_sync(presenter.list_voices())
    except ReelforgeError as exc:
        raise _fail(exc) from None
    out = Console()
    table = Table(title="HeyGen avatars (HEYGEN_AVATAR_ID)")
    for column in ("avatar id", "name", "gender"):
        table.add_column(column)
    for a in avatars:
        table.add_row(a.avatar_id, a.name, a.gender)
    out.print(table)
    table = Table(title="HeyGen voices (HEYGEN_VOICE_ID)")
    for column in ("voice id", "name", "language", "gender"):
        table.add_column(column)
    for v in voices:
        table.add_row(v.voice_id, v.name, v.language, v.gender)
    out.print(table)


@app.command("templates")
def templates_command() -> None:
    """List the ad templates."""
    from pipeline.templates.registry import load_templates

    table = Table(title="reelforge templates")
    for column in ("name", "title", "scenes", "seconds", "captions", "transition"):
        table.add_column(column)
    for template in load_templates().values():
        style = template.caption_style
        table.add_row(
            template.name, template.title, " → ".join(s.role for s in template.slots),
            f"{template.min_duration:g}-{template.max_duration:g}",
            f"{style.max_words} words{' caps' if style.uppercase else ''}",
            f"{template.pacing.transition} {template.pacing.transition_seconds:g}s",
        )  # fmt: skip
    Console().print(table)


def main() -> None:  # pragma: no cover - console entry for `python -m pipeline`
    sys.exit(app())
