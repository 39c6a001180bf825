"""The ``reelforge`` command line: the root app and every command and group, registered here and
only here (the modules beside this one define plain functions and register nothing)."""

from __future__ import annotations

import typer

from pipeline.cli import analytics, catalogue, credits, db, render, report, service

__all__ = ["app"]


def _group(help: str) -> typer.Typer:
    return typer.Typer(
        help=help, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
    )


def _db() -> typer.Typer:
    group = _group("The database: migrate, status, the Supabase CLI's copy of the migrations.")
    group.command("migrate")(db.migrate_command)
    group.command("status")(db.status_command)
    group.command("sync-supabase")(db.sync_supabase_command)
    return group


def _credits() -> typer.Typer:
    group = _group("Credits: grant, balance, config (the starting grant).")
    group.command("grant")(credits.grant_command)
    group.command("balance")(credits.balance_command)
    group.command("config")(credits.config_command)
    return group


def _analytics() -> typer.Typer:
    group = _group("Ad performance: import reports, creatives.")
    group.command("import")(analytics.import_command)
    group.command("pull-meta")(analytics.pull_meta_command)
    group.command("pull-google")(analytics.pull_google_command)
    group.command("creatives")(analytics.creatives_command)
    group.command("report")(report.report_command)
    group.command("recommend")(report.recommend_command)
    group.command("costs")(report.costs_command)
    return group


def _app() -> typer.Typer:
    root = typer.Typer(
        name="reelforge",
        help="Turn a product brief into finished video ads for every placement.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    root.command("render")(render.render_command)
    root.command("demo")(render.demo_command)
    root.command("compose")(render.compose_command)
    root.command("token")(service.token_command)
    root.command("serve")(service.serve_command)
    root.command("providers")(catalogue.providers_command)
    root.command("templates")(catalogue.templates_command)
    root.add_typer(_db(), name="db")
    root.add_typer(_analytics(), name="analytics")
    root.add_typer(_credits(), name="credits")
    return root


app = _app()
