"""``reelforge analytics import | pull-meta | pull-google | creatives``: performance reports into
the database, and the creatives they join.

A report file's source is told by its header unless ``--source`` says; its rows join the user's
creatives by the creative id in the ad name or ``utm_content``. A bad file exits 2 with one line
naming the file, line and column, and imports nothing. The API pulls feed the same import.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import httpx
import typer
from pydantic import SecretStr

from pipeline.cli.common import (
    LOCAL_USER,
    UserOption,
    ensure_user,
    fail,
    load_settings,
    print_table,
    resolve_user,
)
from pipeline.errors import BadInput, ReelforgeError

if TYPE_CHECKING:
    from pipeline.analytics.importers import CsvSource, PerformanceSource, Report
    from pipeline.analytics.store import ImportResult
    from pipeline.settings import Settings

__all__ = ["creatives_command", "import_command", "pull_google_command", "pull_meta_command"]

_SOURCES = ("auto", "meta", "google")

SinceOption = Annotated[str, typer.Option("--since", help="First day, e.g. 2026-11-01.")]
UntilOption = Annotated[str, typer.Option("--until", help="Last day, inclusive.")]
DailyOption = Annotated[bool, typer.Option("--daily", help="One row per day, not one per period.")]


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except FileNotFoundError:
        raise BadInput(str(file), "file not found") from None
    except IsADirectoryError:
        raise BadInput(str(file), "is a folder, not a report file") from None
    except OSError as exc:
        raise BadInput(str(file), f"cannot read: {exc.strerror}") from None


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

    settings = load_settings()
    try:
        if source not in _SOURCES:
            raise BadInput("--source", f"must be one of {', '.join(_SOURCES)}, got {source!r}")
        report = read_csv_report(
            _read(file),
            name=file.name,
            source=cast("CsvSource", source),  # checked against _SOURCES above
            currency=currency_code(currency),
        )
        result = _store_report(report, settings, user, name=file.name)
    except ReelforgeError as exc:
        raise fail(exc) from None
    _print_result(report, result, name=file.name)


def _store_report(report: Report, settings: Settings, user: str, *, name: str) -> ImportResult:
    from pipeline.analytics.store import import_report
    from pipeline.store.analytics import Analytics
    from pipeline.store.database import open_store

    owner = resolve_user(settings.store, user)
    with open_store(settings.store) as store:
        ensure_user(store, owner)
        return import_report(
            analytics=Analytics(store),
            user_id=owner.id,
            report=report.model_copy(update={"name": name}),
        )


def _print_result(report: Report, result: ImportResult, *, name: str) -> None:
    skipped = f" ({report.skipped} summary rows skipped)" if report.skipped else ""
    print(
        f"{name}: {result.rows} rows from {report.source}{skipped}: imported {result.imported}, "
        f"updated {result.updated}, unchanged {result.unchanged}, unmatched {len(result.unmatched)}"
    )
    if result.unmatched:
        print_table(
            "unmatched rows (no creative id of yours in the ad name or utm_content)",
            ("line", "ad name"),
            [(str(u.line), u.ad_name or "(no ad name)") for u in result.unmatched],
        )


def _transport() -> httpx.BaseTransport | None:
    """The HTTP transport of the API pulls: the network (tests replace this seam)."""
    return None


def _token(value: SecretStr | None, variable: str) -> str:
    """An API pull's token from the settings; BadInput naming its variable when it is not set."""
    token = value.get_secret_value().strip() if value is not None else ""
    if not token:
        raise BadInput(variable, "is not set: the API pull needs it")
    return token


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


def _pull(source: PerformanceSource, settings: Settings, user: str, name: str) -> None:
    try:
        report = source.fetch()
        result = _store_report(report, settings, user, name=name)
    except ReelforgeError as exc:
        raise fail(exc) from None
    _print_result(report, result, name=name)


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

    settings = load_settings()
    try:
        start, end = _period(since, until)
        token = _token(settings.analytics.meta_access_token, "META_ACCESS_TOKEN")
        source = MetaInsightsApi(
            object_id=object_id, access_token=token, since=start, until=end,
            daily=daily, placements=placements, transport=_transport(),
        )  # fmt: skip
    except ReelforgeError as exc:
        raise fail(exc) from None
    try:
        _pull(source, settings, user, f"meta insights {object_id} {since}..{until}")
    finally:
        source.close()


def pull_google_command(
    customer: Annotated[str, typer.Option("--customer", help="The Google Ads customer id.")],
    since: SinceOption,
    until: UntilOption,
    daily: DailyOption = False,
    login_customer: Annotated[
        str | None,
        typer.Option(
            "--login-customer",
            help="The manager account, if any (default: GOOGLE_ADS_LOGIN_CUSTOMER_ID).",
        ),
    ] = None,
    user: UserOption = LOCAL_USER,
) -> None:
    """Import ad-level Google Ads metrics with GAQL (GOOGLE_ADS_DEVELOPER_TOKEN and an OAuth
    access token in GOOGLE_ADS_ACCESS_TOKEN)."""
    from pipeline.analytics.importers import GoogleAdsApi

    settings = load_settings()
    tokens = settings.analytics
    try:
        start, end = _period(since, until)
        source = GoogleAdsApi(
            customer_id=customer,
            developer_token=_token(tokens.google_ads_developer_token, "GOOGLE_ADS_DEVELOPER_TOKEN"),
            access_token=_token(tokens.google_ads_access_token, "GOOGLE_ADS_ACCESS_TOKEN"),
            since=start, until=end, daily=daily, transport=_transport(),
            login_customer_id=login_customer or tokens.google_ads_login_customer_id,
        )  # fmt: skip
    except ReelforgeError as exc:
        raise fail(exc) from None
    try:
        _pull(source, settings, user, f"google ads {customer} {since}..{until}")
    finally:
        source.close()


def creatives_command(user: UserOption = LOCAL_USER) -> None:
    """List the creatives recorded for your renders, newest first."""
    from pipeline.store.analytics import Analytics
    from pipeline.store.database import open_store

    settings = load_settings()
    try:
        owner = resolve_user(settings.store, user)
        with open_store(settings.store) as store:
            ensure_user(store, owner)
            creatives = Analytics(store).creatives(user_id=owner.id)
    except ReelforgeError as exc:
        raise fail(exc) from None
    print_table(
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
