"""The ``analytics`` command group: import performance reports and list creatives.

``reelforge analytics import FILE`` reads a Meta Ads Manager export or a Google Ads report (the
source is told by the header unless ``--source`` says), joins its rows to the user's creatives by
the creative id in the ad name or ``utm_content``, and stores them; a bad file exits 2 with one line
naming the file, line and column, and imports nothing. Other modules add commands to
``analytics_app`` (the reports live in ``pipeline.analytics.report_cli``).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast
from uuid import UUID

import httpx
import typer
from rich.console import Console
from rich.table import Table

from pipeline.errors import BadInput, ReelforgeError

if TYPE_CHECKING:
    from pipeline.analytics.importers import CsvSource, PerformanceSource, Report
    from pipeline.analytics.store import ImportResult
    from pipeline.store.database import Store
    from pipeline.store.settings import StoreSettings

__all__ = ["analytics_app"]

analytics_app = typer.Typer(
    name="analytics",
    help="Ad performance: import reports, list creatives.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)
LOCAL_USER = "local@reelforge.invalid"
_SOURCES = ("auto", "meta", "google")


def _fail(exc: ReelforgeError) -> typer.Exit:
    console.print(f"[bold red]error[/]: {exc.message}", highlight=False, soft_wrap=True)
    return typer.Exit(2 if isinstance(exc, BadInput) else 1)


def _user(settings: StoreSettings, user: str) -> tuple[UUID, str | None]:
    """The user id, and the email to create it with on the embedded database (which is ours)."""
    from pipeline.store.users import local_user_id

    if settings.embedded:
        return local_user_id(user), user
    try:
        return UUID(user), None
    except ValueError:
        raise BadInput("--user", "with DATABASE_URL, give the user's id (a UUID)") from None


def _ensure_user(store: Store, user_id: UUID, email: str | None) -> None:
    if email is None:
        return
    from pipeline.store.users import Users

    Users(store).ensure_local(user_id=user_id, email=email)


def _table(title: str, columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    out = Console()
    if out.is_terminal:
        table = Table(title=title)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*row)
        out.print(table)
    else:  # plain lines for logs and pipes: no truncated table cells
        print(title)
        for row in rows:
            print("  ".join(row))


UserOption = Annotated[
    str,
    typer.Option("--user", help="Whose data: an email (embedded database) or a user id."),
]


@analytics_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="A Meta Ads Manager export or Google Ads report.")],
    source: Annotated[
        str, typer.Option("--source", help="meta, google or auto (told by the header).")
    ] = "auto",
    currency: Annotated[
        str | None,
        typer.Option("--currency", help="The account currency, for reports that do not say it."),
    ] = None,
    user: UserOption = LOCAL_USER,
) -> None:
    """Import a performance report; rows join creatives by the creative id they carry."""
    from pipeline.analytics.importers import read_csv_report
    from pipeline.analytics.model import currency_code

    try:
        if source not in _SOURCES:
            raise BadInput("--source", f"must be one of {', '.join(_SOURCES)}, got {source!r}")
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            raise BadInput(str(file), "file not found") from None
        except IsADirectoryError:
            raise BadInput(str(file), "is a folder, not a report file") from None
        except OSError as exc:
            raise BadInput(str(file), f"cannot read: {exc.strerror}") from None
        report = read_csv_report(
            data,
            name=file.name,
            source=cast("CsvSource", source),  # checked against _SOURCES above
            currency=currency_code(currency),
        )
        result = _store_report(report, user, name=file.name)
    except ReelforgeError as exc:
        raise _fail(exc) from None
    _print_result(report, result, name=file.name)


def _store_report(report: Report, user: str, *, name: str) -> ImportResult:
    from pipeline.analytics.store import import_report
    from pipeline.store.analytics import Analytics
    from pipeline.store.database import open_store
    from pipeline.store.settings import StoreSettings

    settings = StoreSettings()
    user_id, email = _user(settings, user)
    with open_store(settings) as store:
        _ensure_user(store, user_id, email)
        return import_report(
            analytics=Analytics(store),
            user_id=user_id,
            report=report.model_copy(update={"name": name}),
        )


def _print_result(report: Report, result: ImportResult, *, name: str) -> None:
    skipped = f" ({report.skipped} summary rows skipped)" if report.skipped else ""
    print(
        f"{name}: {result.rows} rows from {report.source}{skipped}: imported {result.imported}, "
        f"updated {result.updated}, unchanged {result.unchanged}, unmatched {len(result.unmatched)}"
    )
    if result.unmatched:
        _table(
            "unmatched rows (no creative id of yours in the ad name or utm_content)",
            ("line", "ad name"),
            [(str(u.line), u.ad_name or "(no ad name)") for u in result.unmatched],
        )


def _transport() -> httpx.BaseTransport | None:
    """The HTTP transport of the API pulls: the network (tests replace this seam)."""
    return None


def _env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise BadInput(name, "is not set: the API pull needs it")
    return value


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput(option, f"must be a date like 2026-11-01, got {value!r}") from None


def _period(since: str, until: str) -> tuple[date, date]:
    start, end = _day(since, "--since"), _day(until, "--until")
    if end < start:
        raise BadInput("--until", "is before --since")
    return start, end


def _pull(source: PerformanceSource, user: str, name: str) -> None:
    try:
        report = source.fetch()
        result = _store_report(report, user, name=name)
    except ReelforgeError as exc:
        raise _fail(exc) from None
    _print_result(report, result, name=name)


SinceOption = Annotated[str, typer.Option("--since", help="First day, e.g. 2026-11-01.")]
UntilOption = Annotated[str, typer.Option("--until", help="Last day, inclusive.")]
DailyOption = Annotated[bool, typer.Option("--daily", help="One row per day, not one per period.")]


@analytics_app.command("pull-meta")
def pull_meta_command(
    object_id: Annotated[
        str, typer.Option("--object", help="The ad account (act_123…), campaign or ad set id.")
    ],
    since: SinceOption,
    until: UntilOption,
    daily: DailyOption = False,
    placements: Annotated[
        bool, typer.Option("--placements", help="Split rows by publisher platform and position.")
    ] = False,
    user: UserOption = LOCAL_USER,
) -> None:
    """Import ad-level Meta Insights over the Marketing API (token in META_ACCESS_TOKEN)."""
    from pipeline.analytics.importers import MetaInsightsApi

    try:
        start, end = _period(since, until)
        source = MetaInsightsApi(
            object_id=object_id, access_token=_env("META_ACCESS_TOKEN"), since=start, until=end,
            daily=daily, placements=placements, transport=_transport(),
        )  # fmt: skip
    except ReelforgeError as exc:
        raise _fail(exc) from None
    try:
        _pull(source, user, f"meta insights {object_id} {since}..{until}")
    finally:
        source.close()


@analytics_app.command("pull-google")
def pull_google_command(
    customer: Annotated[str, typer.Option("--customer", help="The Google Ads customer id.")],
    since: SinceOption,
    until: UntilOption,
    daily: DailyOption = False,
    login_customer: Annotated[
        str | None, typer.Option("--login-customer", help="The manager account, if any.")
    ] = None,
    user: UserOption = LOCAL_USER,
) -> None:
    """Import ad-level Google Ads metrics with GAQL (GOOGLE_ADS_DEVELOPER_TOKEN and an OAuth
    access token in GOOGLE_ADS_ACCESS_TOKEN)."""
    from pipeline.analytics.importers import GoogleAdsApi

    try:
        start, end = _period(since, until)
        source = GoogleAdsApi(
            customer_id=customer, developer_token=_env("GOOGLE_ADS_DEVELOPER_TOKEN"),
            access_token=_env("GOOGLE_ADS_ACCESS_TOKEN"), since=start, until=end,
            login_customer_id=login_customer, daily=daily, transport=_transport(),
        )  # fmt: skip
    except ReelforgeError as exc:
        raise _fail(exc) from None
    try:
        _pull(source, user, f"google ads {customer} {since}..{until}")
    finally:
        source.close()


@analytics_app.command("creatives")
def creatives_command(user: UserOption = LOCAL_USER) -> None:
    """List the creatives recorded for your renders, newest first."""
    from pipeline.store.analytics import Analytics
    from pipeline.store.database import open_store
    from pipeline.store.settings import StoreSettings

    try:
        settings = StoreSettings()
        user_id, email = _user(settings, user)
        with open_store(settings) as store:
            _ensure_user(store, user_id, email)
            creatives = Analytics(store).creatives(user_id=user_id)
    except ReelforgeError as exc:
        raise _fail(exc) from None
    _table(
        f"{len(creatives)} creatives",
        ("creative", "sku", "format", "template", "length", "voice", "colour", "ad name"),
        [
            (
                c.creative_id,
                c.sku,
                c.format,
                c.template,
                c.duration_bucket,
                c.voice,
                c.palette_colour,
                c.ad_name,
            )
            for c in creatives
        ],
    )


# The report commands register themselves on analytics_app when their module is imported.
if importlib.util.find_spec("pipeline.analytics.report_cli") is not None:
    importlib.import_module("pipeline.analytics.report_cli")
