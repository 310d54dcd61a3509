"""Serve the API with a production WSGI server: waitress (threads) or gunicorn (processes).

Either server's limits sit above the app's own (:mod:`api.guard`), so the app answers
first; what a server still refuses itself is answered as a problem too (:mod:`api.front`,
:mod:`api.gunicorn_worker`).

One process with waitress's thread pool is the default and runs everywhere. With
``workers > 1`` gunicorn forks that many worker processes (each with ``threads``
threads); each worker opens its own database connection after the fork, and SQLite
serialises their appends through the store's ``BEGIN IMMEDIATE`` write lock.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
from pathlib import Path
from typing import Any

from flask import Flask

from api.app import create_app
from ledger.errors import ConfigError


def _app(
    home: Path,
    passphrase: bytes | None,
    db: str | None,
    secret: bytes | None = None,
    writing: dict[str, Any] | None = None,
) -> Flask:
    config = {"LOTCHAIN_PASSPHRASE": passphrase, "LOTCHAIN_DB": db, "LOTCHAIN_SECRET_KEY": secret}
    return create_app(home, config={**config, **(writing or {})})


def serve(
    home: Path,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    threads: int = 8,
    *,
    passphrase: bytes | None = None,
    db: str | None = None,
    integrate_every_ms: int | None = None,
    pool_workers: str | None = None,
) -> None:
    """Serve the ledger of ``home`` until interrupted; without a passphrase, reads only.

    ``integrate_every_ms`` bounds how long an append waits to share an integration with
    the appends arriving beside it; ``pool_workers`` sizes each process's admission pool
    (``off``, ``auto`` or a number; default ``LOTCHAIN_POOL_WORKERS``, else ``off``).
    """
    if workers < 1 or threads < 1:
        raise ConfigError("workers and threads must be at least 1")
    writing: dict[str, Any] = {}
    if integrate_every_ms is not None:
        writing["LOTCHAIN_INTEGRATE_EVERY_MS"] = integrate_every_ms
    if pool_workers is not None:
        writing["LOTCHAIN_POOL_WORKERS"] = pool_workers
    secret = console_secret()
    if workers == 1:
        import waitress

        from api.front import WAITRESS_LIMITS, use_problem_channels

        app = _app(home, passphrase, db, secret, writing)
        logging.getLogger("waitress").setLevel(logging.INFO)
        server = waitress.create_server(
            app, host=host, port=port, threads=threads, ident="lotchain", **WAITRESS_LIMITS
        )
        use_problem_channels(server)
        server.print_listen("Serving on http://{}:{}")
        # SIGTERM (a service manager stopping us) ends the loop like Ctrl-C, so the
        # admission pool's processes are stopped too
        signal.signal(signal.SIGTERM, _stop_serving)
        try:
            server.run()
        finally:
            app.extensions["lotchain"].ledger.close()
        return
    _gunicorn(home, host, port, workers, threads, passphrase, db, secret, writing)


def _stop_serving(signum: int, frame: object) -> None:
    raise SystemExit(0)


def console_secret() -> bytes:
    """The key that signs console sessions: ``LOTCHAIN_CONSOLE_SECRET``, else random.

    Set the same value on every server behind one balancer so a session holds on any of
    them; left unset, sessions end when the server stops.
    """
    given = os.environ.get("LOTCHAIN_CONSOLE_SECRET", "")
    if not given:
        return secrets.token_bytes(32)
    if len(given) < 32:
        raise ConfigError("LOTCHAIN_CONSOLE_SECRET must be at least 32 characters")
    return given.encode("utf-8")


def _gunicorn(
    home: Path,
    host: str,
    port: int,
    workers: int,
    threads: int,
    passphrase: bytes | None,
    db: str | None,
    secret: bytes,
    writing: dict[str, Any],
) -> None:
    try:
        from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

        from api.gunicorn_worker import LIMITS, ProblemThreadWorker
    except ImportError as e:
        raise ConfigError(
            "--workers above 1 needs gunicorn (pip install gunicorn; not on Windows); "
            "or serve with one worker and more --threads"
        ) from e

    # One session key for every worker, so a console session holds whichever one answers.
    # Open the database in a quick check before forking, so a bad home fails at once.
    _app(home, passphrase, db).extensions["lotchain"].ledger.store.close()

    class Server(BaseApplication):  # type: ignore[misc]
        """Gunicorn with lotchain's app, loaded in each worker after the fork."""

        def load_config(self) -> None:
            settings: dict[str, Any] = {
                "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": ProblemThreadWorker,  # gthread; its refusals are problems
                "preload_app": False,
                "accesslog": "-",
                "proc_name": "lotchain",
                **LIMITS,
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return _app(home, passphrase, db, secret, writing)

    Server().run()
