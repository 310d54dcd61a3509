"""What every ``lotchain`` command shares: options, passphrases, output, errors."""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from ledger.errors import ConfigError, TooLargeError, UsageError
from ledger.home import Home
from ledger.keys import MIN_PASSPHRASE_BYTES
from ledger.log import Ledger
from ledger.storage import Store
from ledger.storage.base import display_url

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


def check_passphrase(passphrase: bytes) -> None:
    """Refuse a passphrase too short to protect a private key, before anything is written."""
    if len(passphrase) < MIN_PASSPHRASE_BYTES:
        raise UsageError(
            f"the passphrase must be at least {MIN_PASSPHRASE_BYTES} bytes "
            f"(it is {len(passphrase)})"
        )


def _port_error(host: str, port: int, error: OSError) -> UsageError:
    if error.errno == errno.EADDRINUSE:
        return UsageError(f"port {port} on {host} is already in use; choose a free one with --port")
    return UsageError(
        f"cannot listen on {host} port {port}: {error.strerror or error}; "
        "choose another --host or --port"
    )


def check_port_free(host: str, port: int) -> None:
    """Refuse a port something already listens on (or an address not here), up front."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as e:
        raise UsageError(f"cannot listen on {host}: {e.strerror}; give another --host") from e
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        if os.name != "nt":  # as the servers do, so a port in TIME_WAIT counts as free
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as e:
            raise _port_error(host, port, e) from e


@contextlib.contextmanager
def port_in_use_as_usage_error(host: str, port: int) -> Iterator[None]:
    """A server failing to bind (taken since the check) reported with ``--port``."""
    try:
        yield
    except OSError as e:
        if e.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            raise _port_error(host, port, e) from e
        raise


def require_log(store: Store) -> None:
    """Refuse a database that holds no log: an empty one is not a ledger to read or serve."""
    if store.size() == 0:
        raise ConfigError(
            f"the database {display_url(store.url)} holds no log (0 entries): it was never "
            "initialised; create a ledger on it with: lotchain init --db URL"
        )


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
