"""``reelforge credits grant | balance | config``: the operator's side of credits. A grant goes
through the same SQL function as ``POST /v1/admin/credits/grants``, under the same keys, so a
grant made here and retried through the API (or the other way round) is made once."""

from __future__ import annotations

import uuid
from datetime import UTC
from typing import TYPE_CHECKING, Annotated

import typer

from pipeline.cli.common import (
    UserOption,
    ensure_user,
    fail,
    load_settings,
    print_table,
    resolve_user,
)
from pipeline.errors import ReelforgeError

if TYPE_CHECKING:
    from pipeline.store.models import CreditGrant

__all__ = ["balance_command", "config_command", "grant_command"]

_MAX_CREDITS = 1_000_000_000


def _granted(found: CreditGrant, key: str, who: str) -> str:
    entry = found.entry
    if found.replayed:
        return (
            f"key {key!r} was already used: {entry.delta} credits granted to {who} on "
            f"{entry.created_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC; nothing changed"
        )
    return (
        f"granted {entry.delta} credits to {who} ({entry.reason}): balance {entry.balance_after}, "
        f"key {key!r}"
    )


def grant_command(
    user: UserOption,
    amount: Annotated[int, typer.Option(help="Credits to add.", min=1, max=_MAX_CREDITS)],
    reason: Annotated[str, typer.Option(help="Shown in the user's ledger.")] = "grant",
    key: Annotated[
        str | None,
        typer.Option(help="Names this grant: the same key again grants nothing (default: new)."),
    ] = None,
) -> None:
    """Grant credits to a user once per key (an email on the embedded database, else a user id)."""
    from pipeline.store.credits import Credits
    from pipeline.store.database import open_store

    settings = load_settings()
    key = key or f"cli-{uuid.uuid4()}"
    try:
        target = resolve_user(settings.store, user)
        with open_store(settings.store) as store:
            ensure_user(store, target)
            found = Credits(store).grant(user_id=target.id, amount=amount, reason=reason, key=key)
    except ReelforgeError as exc:
        raise fail(exc) from None
    who = f"{target.email} ({target.id})" if target.email else str(target.id)
    print(_granted(found, key, who))


def balance_command(
    user: UserOption,
    entries: Annotated[
        int, typer.Option("--ledger", help="Also list the newest N ledger entries.", min=0)
    ] = 0,
) -> None:
    """Print a user's credit balance (and, with --ledger N, their newest ledger entries)."""
    from pipeline.store.credits import Credits
    from pipeline.store.database import open_store

    settings = load_settings()
    try:
        target = resolve_user(settings.store, user)
        with open_store(settings.store) as store:
            credits = Credits(store)
            balance = credits.balance(user_id=target.id)
            rows = credits.ledger(user_id=target.id, before=None, limit=entries) if entries else []
    except ReelforgeError as exc:
        raise fail(exc) from None
    print(balance)
    if rows:
        print_table(
            f"ledger of {user}",
            ["id", "when", "change", "balance", "reason"],
            [
                [str(e.id), e.created_at.isoformat(timespec="seconds"), f"{e.delta:+d}",
                 str(e.balance_after), e.reason]
                for e in rows
            ],
        )  # fmt: skip


def config_command(
    starting_grant: Annotated[
        int | None,
        typer.Option(
            help="Credits each new user gets when created (0: none).", min=0, max=_MAX_CREDITS
        ),
    ] = None,
) -> None:
    """Show (or set) the credits configuration the database applies by itself: the starting
    grant a new user gets when their account is created."""
    from pipeline.store.credits import Credits
    from pipeline.store.database import open_store

    settings = load_settings()
    try:
        with open_store(settings.store) as store:
            credits = Credits(store)
            if starting_grant is not None:
                credits.set_starting_grant(starting_grant)
            current = credits.starting_grant()
    except ReelforgeError as exc:
        raise fail(exc) from None
    print(f"starting grant: {current} credits for each new user" if current else
          "starting grant: off (new users start with 0 credits)")  # fmt: skip
