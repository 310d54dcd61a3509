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
from pathlib import Path
from typing import Any

from flask import Flask

from api.app import create_app
from ledger.errors import ConfigError


def _app(home: Path, passphrase: bytes | None, db: str | None) -> Flask:
    return create_app(home, config={"LOTCHAIN_PASSPHRASE": passphrase, "LOTCHAIN_DB": db})


def serve(
    home: Path,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int = 1,
    threads: int = 8,
    *,
    passphrase: bytes | None = None,
    db: str | None = None,
) -> None:
    """Serve the ledger of ``home`` until interrupted; without a passphrase, reads only."""
    if workers < 1 or threads < 1:
        raise ConfigError("workers and threads must be at least 1")
    if workers == 1:
        import waitress

        from api.front import WAITRESS_LIMITS, use_problem_channels

        app = _app(home, passphrase, db)
        logging.getLogger("waitress").setLevel(logging.INFO)
        server = waitress.create_server(
            app, host=host, port=port, threads=threads, ident="lotchain", **WAITRESS_LIMITS
        )
        use_problem_channels(server)
        server.print_listen("Serving on http://{}:{}")
        server.run()
        return
    _gunicorn(home, host, port, workers, threads, passphrase, db)


def _gunicorn(
    home: Path,
    host: str,
    port: int,
    workers: int,
    threads: int,
    passphrase: bytes | None,
    db: str | None,
) -> None:
    try:
        from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

        from api.gunicorn_worker import LIMITS, ProblemThreadWorker
    except ImportError as e:
        raise ConfigError(
            "--workers above 1 needs gunicorn (pip install gunicorn; not on Windows); "
            "or serve with one worker and more --threads"
        ) from e

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
            return _app(home, passphrase, db)

    Server().run()
