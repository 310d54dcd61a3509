"""Commands of the HTTP server: ``lotchain serve`` and ``lotchain token issue|revoke|list``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from ledger.cli.common import (
    Options,
    check_port_free,
    emit,
    get_passphrase,
    home_options,
    port_in_use_as_usage_error,
    require_log,
)
from ledger.cli.main import cli
from ledger.errors import UsageError
from ledger.tokens import TokenInfo, TokenStore


@cli.command()
@home_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8080, show_default=True, help="TCP port."
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes: 1 serves with waitress; more fork gunicorn workers (Unix).",
)
@click.option(
    "--threads", type=click.IntRange(1, 256), default=8, show_default=True, help="Per process."
)
@click.option(
    "--read-only",
    is_flag=True,
    help="Serve reads only: no log key is loaded and POST /v1/entries answers 503.",
)
@click.option(
    "--detach",
    is_flag=True,
    help="Run in the background: return once the server answers, printing its process id.",
)
@click.option(
    "--pid-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --detach: write the server's process id here (stop it: kill $(cat FILE)).",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --detach: where the server writes its messages (default: HOME/serve.log).",
)
@click.option(
    "--integrate-every-ms",
    type=click.IntRange(0, 10_000),
    default=50,
    show_default=True,
    envvar="LOTCHAIN_INTEGRATE_EVERY_MS",
    help="Longest an append waits for the appends beside it to share its commit and "
    "signed checkpoint (0: integrate at once). Env: LOTCHAIN_INTEGRATE_EVERY_MS.",
)
@click.option(
    "--pool-workers",
    default=None,
    metavar="off|auto|N",
    help="Processes per server process that parse and verify envelopes before the "
    "sequencer writes them: worth it with an idle core (default: LOTCHAIN_POOL_WORKERS, "
    "else off; auto = cores - 1).",
)
def serve(
    opts: Options,
    host: str,
    port: int,
    workers: int,
    threads: int,
    read_only: bool,
    detach: bool,
    pid_file: Path | None,
    log_file: Path | None,
    integrate_every_ms: int,
    pool_workers: str | None,
) -> None:
    """Serve the ledger's HTTP API (see GET /openapi.json) until interrupted.

    Appends need the log key: its passphrase comes from --passphrase-file's siblings
    (LOTCHAIN_PASSPHRASE_FILE, LOTCHAIN_PASSPHRASE) or a prompt, unless --read-only. A
    port already in use, or a database that holds no log, is refused with exit status 2.
    With --detach it runs in the background and the command returns once it answers.

    \b
    Example:
      lotchain serve --port 8080 --detach --pid-file server.pid
      kill $(cat server.pid)
      lotchain serve --port 8080 --workers 2 --integrate-every-ms 20 --pool-workers auto
    """
    from api.serve import serve as run
    from ledger.pool import workers_setting

    if pool_workers is not None:
        workers_setting(pool_workers)  # a bad value is refused before serving
    check_port_free(host, port)
    store = opts.install.open_store(opts.db, create=False)
    try:
        require_log(store)
    finally:
        store.close()
    passphrase = None if read_only else get_passphrase("Passphrase of the log key")
    if detach:
        _detach(
            opts,
            host,
            port,
            workers,
            threads,
            read_only,
            passphrase,
            pid_file,
            log_file,
            integrate_every_ms,
            pool_workers,
        )
        return
    if pid_file is not None or log_file is not None:
        raise UsageError("--pid-file and --log-file go with --detach")
    server = "waitress" if workers == 1 else f"gunicorn, {workers} workers"
    click.echo(
        f"lotchain: serving {opts.home} on http://{host}:{port} "
        f"({server}, {threads} threads{', read-only' if read_only else ''}); Ctrl-C stops",
        err=True,
    )
    with port_in_use_as_usage_error(host, port):
        run(
            opts.home,
            host,
            port,
            workers,
            threads,
            passphrase=passphrase,
            db=opts.db,
            integrate_every_ms=integrate_every_ms,
            pool_workers=pool_workers,
        )


def _detach(
    opts: Options,
    host: str,
    port: int,
    workers: int,
    threads: int,
    read_only: bool,
    passphrase: bytes | None,
    pid_file: Path | None,
    log_file: Path | None,
    integrate_every_ms: int,
    pool_workers: str | None,
) -> None:
    from ledger.cli.detach import start_detached

    args = ["--home", str(opts.home), "--host", host, "--port", str(port)]
    args += ["--workers", str(workers), "--threads", str(threads)]
    args += ["--db", opts.db] if opts.db else []
    args += ["--read-only"] if read_only else []
    args += ["--integrate-every-ms", str(integrate_every_ms)]
    args += ["--pool-workers", pool_workers] if pool_workers is not None else []
    log = log_file or opts.home / "serve.log"
    pid = start_detached(
        args, host=host, port=port, passphrase=passphrase, log_file=log, pid_file=pid_file
    )
    url = f"http://{host}:{port}"
    emit(
        opts,
        {"pid": pid, "url": url, "log_file": str(log), "pid_file": pid_file and str(pid_file)},
        f"lotchain: serving {opts.home} on {url} in the background (pid {pid}, log {log}); "
        f"stop it with: kill {pid}",
    )


@cli.group()
def token() -> None:
    """Bearer tokens for API reads, each bound to one party (stored as hashes only)."""


def _describe(info: TokenInfo) -> str:
    state = "active" if info.active else f"revoked {info.to_json()['revoked_at']}"
    label = f" {info.label!r}" if info.label else ""
    return f"{info.id}  {info.party}{label}  created {info.to_json()['created_at']}  {state}"


@token.command("issue")
@home_options
@click.option("--party", required=True, help="The party the token acts for (party:...).")
@click.option("--label", default="", help="A note for whoever lists tokens later.")
def token_issue(opts: Options, party: str, label: str) -> None:
    """Issue a token for PARTY and print it once: it cannot be shown again."""
    store = opts.install.open_store(opts.db)
    try:
        issued = TokenStore(store).issue(party, now=datetime.now(UTC), label=label)
    finally:
        store.close()
    if opts.json:
        emit(opts, {"token": issued.token, **issued.info.to_json()})
        return
    click.echo(issued.token)
    click.echo(
        f"issued {issued.info.id} for {party}; keep the token now, it is not stored", err=True
    )


@token.command("revoke")
@home_options
@click.argument("token_or_id")
def token_revoke(opts: Options, token_or_id: str) -> None:
    """Revoke a token, named by the token itself or by its id (tok_...)."""
    store = opts.install.open_store(opts.db)
    try:
        info = TokenStore(store).revoke(token_or_id, now=datetime.now(UTC))
    finally:
        store.close()
    emit(opts, info.to_json(), f"revoked {_describe(info)}")


@token.command("list")
@home_options
@click.option("--party", default=None, help="Only this party's tokens.")
def token_list(opts: Options, party: str | None) -> None:
    """List tokens (ids, parties, labels, state); never the tokens themselves."""
    store = opts.install.open_store(opts.db)
    try:
        infos = TokenStore(store).list(party)
    finally:
        store.close()
    emit(
        opts,
        [i.to_json() for i in infos],
        "\n".join(_describe(i) for i in infos) if infos else "no tokens",
    )
