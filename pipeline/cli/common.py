"""What every command shares: the one-line error and its exit code, the settings, ``--user``, the
table printer and the progress display."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline.errors import BadInput, ReelforgeError
from pipeline.settings import Settings

if TYPE_CHECKING:
    from pipeline.settings import StoreSettings
    from pipeline.store.database import Store

__all__ = [
    "LOCAL_USER",
    "CliUser",
    "RichReporter",
    "UserOption",
    "console",
    "ensure_user",
    "fail",
    "load_settings",
    "print_table",
    "progress_reporter",
    "resolve_user",
]

console = Console(stderr=True)
# pipeline.store.users.LOCAL_USER_EMAIL, spelled out: importing the store would slow down every
# command, including those that never open a database.
LOCAL_USER = "local@reelforge.invalid"

UserOption = Annotated[
    str,
    typer.Option("--user", help="Whose data: an email (embedded database) or a user id."),
]


def fail(exc: ReelforgeError) -> typer.Exit:
    """Prints ``error: <message>`` as one line on stderr; the exit to raise: 2 for bad input,
    1 for anything else."""
    console.print(f"[bold red]error[/]: {escape(exc.message)}", highlight=False, soft_wrap=True)
    return typer.Exit(2 if isinstance(exc, BadInput) else 1)


def load_settings() -> Settings:
    """The command's one Settings, from the environment; a malformed variable exits 2 naming it."""
    try:
        return Settings.from_env()
    except ReelforgeError as exc:
        raise fail(exc) from None


@dataclass(frozen=True)
class CliUser:
    """Whose data a command reads or writes. ``email`` is set on the embedded database only: its
    ``auth.users`` is ours to fill, while a hosted database's users sign up there."""

    id: UUID
    email: str | None


def resolve_user(settings: StoreSettings, user: str) -> CliUser:
    """``--user``: an email on the embedded database, a user id (UUID) with DATABASE_URL."""
    if settings.embedded:
        from pipeline.store.users import local_user_id

        return CliUser(id=local_user_id(user), email=user)
    try:
        return CliUser(id=UUID(user), email=None)
    except ValueError:
        raise BadInput("--user", "with DATABASE_URL, give the user's id (a UUID)") from None


def ensure_user(store: Store, user: CliUser) -> None:
    """Creates the embedded database's account for ``user`` unless it exists."""
    if user.email is None:
        return
    from pipeline.store.users import Users

    Users(store).ensure_local(user_id=user.id, email=user.email)


def print_table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    plain_title: bool = True,
) -> None:
    """A table on stdout: drawn on a terminal; for logs and pipes plain lines (the title first
    unless ``plain_title`` is False), so no cell is truncated."""
    out = Console()
    if out.is_terminal:
        table = Table(title=title)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*row)
        out.print(table)
        return
    if plain_title:
        print(title)
    for row in rows:
        print("  ".join(row))


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


@contextmanager
def progress_reporter() -> Iterator[RichReporter]:
    """A reporter drawing the stages on stderr while the block runs (nothing when not a terminal)."""
    progress = Progress(
        TextColumn("{task.description:<28}"), BarColumn(), TimeElapsedColumn(),
        console=console, transient=False, disable=not console.is_terminal,
    )  # fmt: skip
    with progress:
        yield RichReporter(progress)
