"""What every ``lotchain`` command shares: options, passphrases, output, errors."""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import socket
import stat
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


PASSPHRASE_FILE_ENV = "LOTCHAIN_PASSPHRASE_FILE"  # noqa: S105 (a variable name)
MAX_PASSPHRASE_FILE_BYTES = 4096


def read_passphrase_file(path: Path) -> bytes:
    """A passphrase kept in a file (one line; the final newline is not part of it).

    The file is a secret like the key it opens: refused when group or others may read it.
    """
    try:
        mode = path.stat().st_mode
        with path.open("rb") as f:
            data = f.read(MAX_PASSPHRASE_FILE_BYTES + 1)
    except OSError as e:
        raise UsageError(f"cannot read the passphrase file {path}: {e.strerror}") from e
    if os.name != "nt" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise UsageError(
            f"the passphrase file {path} is readable by group or others "
            f"(mode {stat.S_IMODE(mode):o}); run: chmod 600 {path}"
        )
    if len(data) > MAX_PASSPHRASE_FILE_BYTES:
        raise UsageError(
            f"the passphrase file {path} is larger than {MAX_PASSPHRASE_FILE_BYTES} bytes"
        )
    value = data.removesuffix(b"\n").removesuffix(b"\r")
    if not value:
        raise UsageError(f"the passphrase file {path} is empty")
    return value


def get_passphrase(prompt: str, *, confirm: bool = False, file: Path | None = None) -> bytes:
    """The passphrase of one key, from the first of: ``file`` (``--passphrase-file``),
    ``LOTCHAIN_PASSPHRASE_FILE``, ``LOTCHAIN_PASSPHRASE`` (scripts, CI), a prompt on the
    terminal that names the key (``prompt``)."""
    if file is not None:
        return read_passphrase_file(file)
    from_env = os.environ.get(PASSPHRASE_FILE_ENV)
    if from_env:
        return read_passphrase_file(Path(from_env))
    value = os.environ.get("LOTCHAIN_PASSPHRASE")
    if value is None:
        if not sys.stdin.isatty():
            raise UsageError(
                "a passphrase is needed: give --passphrase-file, set LOTCHAIN_PASSPHRASE_FILE "
                "or LOTCHAIN_PASSPHRASE, or run from a terminal"
            )
        value = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return value.encode("utf-8")


def desk_signer_options(func: F) -> F:
    """``--issuer`` and ``--key``, each defaulting to what ``desk init`` recorded."""
    func = click.option(
        "--key",
        "key_file",
        default=None,
        type=click.Path(path_type=Path, dir_okay=False),
        help="The issuer's encrypted private key file (default: the desk's key).",
    )(func)
    return click.option(
        "--issuer",
        default=None,
        help="Party id of the issuer (party:...; default: the desk's party, from desk init).",
    )(func)


def passphrase_file_option(func: F) -> F:
    """``--passphrase-file``: where the passphrase of the command's own key is kept."""
    return click.option(
        "--passphrase-file",
        "passphrase_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="File holding the passphrase of --key (one line, mode 0600). "
        f"Env: {PASSPHRASE_FILE_ENV}; else LOTCHAIN_PASSPHRASE; else a prompt.",
    )(func)


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


def _desk_value(opts: Options, name: str) -> str | None:
    try:
        value = opts.install.config().get(name)
    except ConfigError:
        return None
    return value if isinstance(value, str) and value else None


def desk_party(opts: Options, given: str | None, option: str) -> str:
    """``given``, else the party the home's desk acts for (desk init --party)."""
    found = given or _desk_value(opts, "party")
    if found is None:
        raise UsageError(
            f"give {option} PARTY: {opts.home} records no party of its own "
            "(a desk made with lotchain desk init --party PARTY does)"
        )
    return found


def desk_key(opts: Options, given: Path | None) -> Path:
    """``given``, else the desk's own key (desk init --generate-key)."""
    if given is not None:
        return given
    found = _desk_value(opts, "key")
    if found is None:
        raise UsageError(
            f"give --key FILE: {opts.home} records no key of its own "
            "(a desk made with lotchain desk init --generate-key NAME does)"
        )
    return opts.home / found
