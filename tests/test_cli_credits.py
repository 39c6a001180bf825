"""``reelforge credits``: grants once per key, the balance and the starting grant, on the
embedded database (users by email) and on a DATABASE_URL (users by id)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.store.conftest import *  # noqa: F403
from tests.test_cli import reelforge

pytestmark = pytest.mark.integration


def test_credits_on_the_embedded_database(isolated_home: Path) -> None:
    env = {"REELFORGE_HOME": str(isolated_home)}

    def run(*args: str) -> tuple[int, str, str]:
        done = reelforge("credits", *args, env=env)
        return done.returncode, done.stdout.strip(), done.stderr.strip()

    assert run("config")[1] == "starting grant: off (new users start with 0 credits)"
    assert run("config", "--starting-grant", "25")[1] == (
        "starting grant: 25 credits for each new user"
    )
    code, out, _ = run("grant", "--user", "ada@example.com", "--amount", "500", "--key", "p-1")
    assert code == 0 and "granted 500 credits to ada@example.com" in out
    assert "balance 525" in out  # the new user's starting grant came first
    code, out, _ = run("grant", "--user", "ada@example.com", "--amount", "500", "--key", "p-1")
    assert code == 0 and out.startswith("key 'p-1' was already used") and "nothing changed" in out
    code, _, err = run("grant", "--user", "ada@example.com", "--amount", "600", "--key", "p-1")
    assert (code, err) == (
        2, "error: idempotency key: 'p-1' was already used for a grant of 500 credits ('grant') "
        "to this user",
    )  # fmt: skip
    code, out, _ = run("balance", "--user", "ada@example.com", "--ledger", "5")
    lines = out.splitlines()
    assert (code, lines[0]) == (0, "525")
    assert [line.split()[2:] for line in lines[2:]] == [
        ["+500", "525", "grant"], ["+25", "25", "starting", "grant"],
    ]  # fmt: skip
    assert run("grant", "--user", "ada@example.com", "--amount", "0")[0] == 2
    assert run("balance", "--user", "ada@example.com")[1] == "525"


def test_credits_on_a_database_url_take_user_ids(db_uri: str, user_a: uuid.UUID) -> None:
    env = {"DATABASE_URL": db_uri}
    stranger = uuid.uuid4()

    granted = reelforge("credits", "grant", "--user", str(user_a), "--amount", "7", env=env)
    by_email = reelforge("credits", "grant", "--user", "a@example.com", "--amount", "7", env=env)
    unknown = reelforge("credits", "grant", "--user", str(stranger), "--amount", "7", env=env)
    balance = reelforge("credits", "balance", "--user", str(user_a), env=env)

    assert granted.returncode == 0 and f"granted 7 credits to {user_a}" in granted.stdout
    assert "key 'cli-" in granted.stdout  # a fresh key per run unless --key is given
    assert (by_email.returncode, by_email.stderr.strip()) == (
        2, "error: --user: with DATABASE_URL, give the user's id (a UUID)",
    )  # fmt: skip
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == f"error: lock_credit_account: unknown user {stranger}"
    assert balance.stdout.strip() == "7"
