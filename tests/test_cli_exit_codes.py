"""Exit codes (DESIGN.md, "Command line"): 0 ok or pass, 1 fail, 2 bad usage or input,
3 review, 4 could not complete. An outage is never reported as a failed shipment."""

from __future__ import annotations

import json
import socket
from collections import deque
from pathlib import Path
from typing import Any

import pytest

from conftest import run_cli
from ledger.client import RemoteUnavailableError, error_from_problem
from ledger.errors import (
    EXIT_INCOMPLETE,
    InternalError,
    LedgerError,
    LogChainError,
    StorageError,
)

PASS = "demo passphrase for tests"


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOTCHAIN_PASSPHRASE", PASS)
    for name in ("LOTCHAIN_HOME", "LOTCHAIN_DB", "LOTCHAIN_REMOTE", "LOTCHAIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The demo ledger: shipments that pass, need review and fail."""
    from ledger.cli import main

    home = tmp_path_factory.mktemp("exit") / "demo"
    mp = pytest.MonkeyPatch()
    mp.setenv("LOTCHAIN_PASSPHRASE", PASS)
    mp.delenv("LOTCHAIN_HOME", raising=False)
    mp.delenv("LOTCHAIN_DB", raising=False)
    try:
        import io
        from contextlib import redirect_stdout

        out = io.StringIO()
        with redirect_stdout(out), pytest.raises(SystemExit) as done:
            main(["demo", "--home", str(home), "--no-serve", "--json"])
    finally:
        mp.undo()
    assert done.value.code == 0
    return home, json.loads(out.getvalue())


def _shipment(summary: dict[str, Any], status: str) -> str:
    return str(next(s["entry_number"] for s in summary["shipments"] if s["status"] == status))


@pytest.mark.parametrize(("status", "exit_code"), [("pass", 0), ("fail", 1), ("review", 3)])
def test_verdicts_exit_0_pass_1_fail_3_review(
    demo: tuple[Path, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    status: str,
    exit_code: int,
) -> None:
    home, summary = demo
    code, out, err = run_cli(
        capsys, "verify", "shipment", _shipment(summary, status), "--home", str(home), "--json"
    )
    assert code == exit_code, err
    assert json.loads(out)["status"] == status


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_remote_exits_4_not_fail(
    demo: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    home, summary = demo
    code, _, err = run_cli(
        capsys,
        "verify",
        "shipment",
        _shipment(summary, "fail"),
        "--home",
        str(home),
        "--remote",
        f"http://127.0.0.1:{_closed_port()}",
    )
    assert code == 4
    assert err.startswith("error [REMOTE_UNAVAILABLE]: cannot reach")


def test_an_unreachable_database_exits_4(
    demo: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    home, _ = demo
    url = f"postgresql://postgres@127.0.0.1:{_closed_port()}/test"
    code, _, err = run_cli(capsys, "audit", "--home", str(home), "--db", url, "--json")
    assert code == 4
    assert json.loads(err)["error"]["code"] == "STORAGE"


@pytest.mark.parametrize(
    ("raised", "code"),
    [
        (RuntimeError("boom"), "INTERNAL"),
        (PermissionError(13, "Permission denied", "/var/lib/x.db"), "STORAGE"),
        (StorageError("disk I/O error"), "STORAGE"),
    ],
    ids=["unforeseen", "os-error", "storage"],
)
def test_errors_that_stop_a_command_exit_4(
    demo: tuple[Path, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    raised: Exception,
    code: str,
) -> None:
    import ledger.cli.log_cmds

    def fails(*args: object, **kwargs: object) -> None:
        raise raised

    monkeypatch.setattr(ledger.cli.log_cmds, "audit_log", fails)
    home, _ = demo
    exit_code, out, err = run_cli(capsys, "audit", "--home", str(home))
    assert exit_code == 4 and out == ""
    assert err.startswith(f"error [{code}]: ") and "Traceback" not in err
    if isinstance(raised, PermissionError):
        assert err.strip() == "error [STORAGE]: Permission denied (/var/lib/x.db)"


def _all_error_classes() -> list[type[LedgerError]]:
    found: list[type[LedgerError]] = []
    queue: deque[type[LedgerError]] = deque([LedgerError])
    while queue:
        cls = queue.popleft()
        found.append(cls)
        queue.extend(cls.__subclasses__())
    return found


def test_every_server_side_failure_means_could_not_complete() -> None:
    import api.errors  # noqa: F401 - its classes join the table

    assert EXIT_INCOMPLETE == 4
    assert StorageError.exit_code == InternalError.exit_code == 4
    assert RemoteUnavailableError.exit_code == 4
    for cls in _all_error_classes():
        if cls.http_status >= 500 and cls is not LogChainError:  # a broken log is a verdict
            assert cls.exit_code == 4, cls
        assert cls.exit_code in (1, 2, 4), cls
    assert error_from_problem(502, b"<html>bad gateway</html>").exit_code == 4
    assert error_from_problem(400, b'{"code": "NEW_CODE"}').exit_code == 2


# -- click's own usage errors, in the coded style -------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["serve", "--port", "abc"],
        ["serve", "--port", "70000"],
        ["no-such-command"],
        ["verify", "shipment"],
        ["audit", "--no-such-option"],
        ["screening", "load", "/no/such/file.csv"],
    ],
    ids=" ".join,
)
def test_click_usage_errors_are_coded_and_json_under_json(
    capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, out, err = run_cli(capsys, *args)
    assert code == 2 and out == ""
    assert err.startswith("error [USAGE]: ") and "--help" in err
    assert "Usage:" not in err and "Error:" not in err
    code, out, err = run_cli(capsys, *args, "--json")
    assert code == 2 and out == ""
    problem = json.loads(err)["error"]
    assert problem["code"] == "USAGE" and problem["message"]


def test_help_and_version_still_work(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "serve", "--help")
    assert code == 0 and out.startswith("Usage: lotchain serve")
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0 and "lotchain" in out
