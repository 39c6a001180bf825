"""``reelforge templates`` and ``reelforge providers``: what a render can be made of, the ad
templates, which provider each stage will use, and HeyGen's avatars and voices."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from pipeline.cli.common import fail, load_settings
from pipeline.errors import ReelforgeError

if TYPE_CHECKING:
    from pipeline.providers.choices import Choice
    from pipeline.settings import ProviderSettings

__all__ = ["providers_command", "templates_command"]

# Why a stage has its provider, by the choice's source.
_WHY = {
    "brief": "the brief",
    "settings": "settings",
    "key": "its key is set",
    "default": "no key: offline",
}


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
    from pipeline.brief import load_brief
    from pipeline.providers.choices import choices

    settings = load_settings().providers
    if heygen:
        _heygen_listing(settings)
        return
    try:
        chosen = choices(load_brief(brief) if brief else None, settings)
    except ReelforgeError as exc:
        raise fail(exc) from None
    out = Console()
    out.print(_stages_table(chosen.values()))
    out.print(_keys_table(settings))


def _ready(choice: Choice) -> str:
    from pipeline.providers.choices import KEYS

    if choice.provider == "none":
        return "only a voice.file needs one: set ELEVENLABS_API_KEY"
    return "yes" if choice.key_set else f"no: set {' and '.join(KEYS[choice.provider])}"


def _stages_table(chosen: Iterable[Choice]) -> Table:
    table = Table(title="stages")
    for column in ("stage", "provider", "model", "chosen by", "ready"):
        table.add_column(column)
    for choice in chosen:
        table.add_row(choice.stage, choice.provider, choice.model or "default",
                      _WHY.get(choice.source, choice.source), _ready(choice))  # fmt: skip
    return table


def _keys_table(settings: ProviderSettings) -> Table:
    from pipeline.providers.choices import KEYS, has_key

    table = Table(title="providers")
    for column in ("provider", "key", "variables"):
        table.add_column(column)
    for name, variables in KEYS.items():
        table.add_row(name, "set" if has_key(settings, name) else "-", ", ".join(variables))
    return table


def _heygen_client() -> httpx.AsyncClient | None:
    """The HTTP client for HeyGen listings: the network (tests replace this seam)."""
    return None


def _heygen_listing(settings: ProviderSettings) -> None:
    from pipeline.providers.heygen import HeyGenPresenter
    from pipeline.providers.sync import run_sync

    try:
        presenter = HeyGenPresenter.from_settings(settings, client=_heygen_client())
        avatars = run_sync(presenter.list_avatars())
        voices = run_sync(presenter.list_voices())
    except ReelforgeError as exc:
        raise fail(exc) from None
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
