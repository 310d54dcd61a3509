"""What every ``lotchain`` command shares: options, passphrases, output, errors."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from ledger.errors import TooLargeError, UsageError
from ledger.home import Home
from ledger.log import Ledger

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_HOME = "lotchain-home"


@dataclass(frozen=True)
class Options:
    """The shared options of a command, as given on the command line or by environment."""

    home: Path
    db: str | None
    json: bool
    remote: str | None = None
    token: str | None = None

    @property
    def install(self) -> Home:
        return Home(self.home)

    def ledger(self, *, write: bool = False) -> Ledger:
        """Open the local ledger; ``write`` loads the log key (asks for the passphrase)."""
        passphrase = get_passphrase("Passphrase of the log key") if write else None
        return self.install.open_ledger(passphrase, db=self.db)


def home_options(func: F) -> F:
    """``--home``, ``--db`` and ``--json``: on every command that reads a ledger."""

    @click.option(
        "--home",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="LOTCHAIN_HOME",
        default=DEFAULT_HOME,
        show_default=True,
        help="Folder of the local install (keys, trust root, config). Env: LOTCHAIN_HOME.",
    )
    @click.option(
        "--db",
        envvar="LOTCHAIN_DB",
        default=None,
        help="Database: a SQLite path or a postgresql:// URL (default: the home's). "
        "Env: LOTCHAIN_DB.",
    )
    @click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
    @functools.wraps(func)
    def wrapper(*args: Any, home: Path, db: str | None, as_json: bool, **kwargs: Any) -> Any:
        return func(*args, opts=Options(home, db, as_json), **kwargs)

    return wrapper  # type: ignore[return-value]


def remote_options(func: F) -> F:
    """``--remote`` and ``--token``: on commands that can talk to a server instead."""

    @click.option(
        "--remote",
        envvar="LOTCHAIN_REMOTE",
        default=None,
        metavar="URL",
        help="Talk to the lotchain server at URL instead of the local database. "
        "Env: LOTCHAIN_REMOTE.",
    )
    @click.option(
        "--token",
        envvar="LOTCHAIN_TOKEN",
        default=None,
        help="Bearer token for reads from a server. Env: LOTCHAIN_TOKEN.",
    )
    @functools.wraps(func)
    def wrapper(
        *args: Any, opts: Options, remote: str | None, token: str | None, **kwargs: Any
    ) -> Any:
        full = Options(opts.home, opts.db, opts.json, remote, token)
        return func(*args, opts=full, **kwargs)

    return wrapper  # type: ignore[return-value]


def get_passphrase(prompt: str, *, confirm: bool = False) -> bytes:
    """``LOTCHAIN_PASSPHRASE`` when set (scripts, CI), else a prompt on the terminal."""
    value = os.environ.get("LOTCHAIN_PASSPHRASE")
    if value is None:
        if not sys.stdin.isatty():
            raise UsageError(
                "a passphrase is needed: set LOTCHAIN_PASSPHRASE or run from a terminal"
            )
        value = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return value.encode("utf-8")


def emit(opts: Options, value: Any, text: str | None = None) -> None:
    """Print ``value`` as JSON with ``--json``, else ``text`` (or the JSON, indented)."""
    if opts.json or text is None:
        click.echo(json.dumps(value, indent=None if opts.json else 2, sort_keys=False))
    else:
        click.echo(text)


MAX_INPUT_BYTES = 256 << 20  # the largest input: an evidence bundle


def read_input(path: str, *, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """Bytes of a file, or of standard input for ``-``, refused past ``max_bytes``."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read(max_bytes + 1)
        else:
            with Path(path).open("rb") as f:
                data = f.read(max_bytes + 1)
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from e
    if len(data) > max_bytes:
        raise TooLargeError(f"{path} is larger than {max_bytes} bytes")
    return data
