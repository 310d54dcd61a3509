"""``lotchain serve --detach``: start the server in the background and return once it answers.

The server runs as its own process (a new session, so closing the terminal leaves it
running), writing to a log file; the command waits until ``/healthz`` answers, then
prints the process id (and writes it to ``--pid-file``) so a script can stop it with
``kill``. A server that exits or does not answer in time is reported with its log's tail.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from ledger.errors import StorageError, UsageError

READY_TIMEOUT_S = 60.0
_POLL_S = 0.2
_TAIL_BYTES = 2000


def _tail(path: Path) -> str:
    try:
        data = path.read_bytes()[-_TAIL_BYTES:]
    except OSError:
        return ""
    return data.decode("utf-8", "replace").strip()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own URL)
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_detached(
    args: list[str],
    *,
    host: str,
    port: int,
    passphrase: bytes | None,
    log_file: Path,
    pid_file: Path | None,
    timeout: float = READY_TIMEOUT_S,
) -> int:
    """Run ``lotchain serve ARGS`` in the background; its pid once it serves."""
    env = {k: v for k, v in os.environ.items() if k != "LOTCHAIN_PASSPHRASE_FILE"}
    if passphrase is not None:
        try:
            env["LOTCHAIN_PASSPHRASE"] = passphrase.decode("utf-8")
        except UnicodeDecodeError as e:
            raise UsageError("--detach needs a passphrase in UTF-8 text") from e
    code = "from ledger.cli.main import main; main()"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        child = subprocess.Popen(  # noqa: S603 (this interpreter, our own module)
            [sys.executable, "-P", "-c", code, "serve", *args],  # -P: not the cwd first
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/healthz"
    deadline = time.monotonic() + timeout
    while not _answers(url):
        status = child.poll()
        if status is not None:
            error = UsageError if status == 2 else StorageError
            tail = _tail(log_file)
            raise error(f"the server exited ({status}) before serving; {log_file}: {tail}")
        if time.monotonic() > deadline:
            child.kill()
            child.wait()
            raise StorageError(
                f"the server did not answer {url} within {timeout:.0f} s; stopped it; "
                f"{log_file}: {_tail(log_file)}"
            )
        time.sleep(_POLL_S)
    if pid_file is not None:
        pid_file.write_text(f"{child.pid}\n", encoding="utf-8")
    return child.pid
