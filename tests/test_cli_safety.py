"""Data safety of the command line: nothing is deleted or served by accident.

``demo --fresh`` deletes only a home ``demo`` created (it holds a marker), never one reached
through ``LOTCHAIN_HOME``, and only after every input is checked; ``--db`` is honoured;
``audit`` and ``serve`` refuse a database that holds no log; ``audit --state`` refuses a
missing file. Each refusal is ``error [CODE]: ...`` with exit status 2.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import pg
from conftest import ROOT, run_cli
from ledger.cli.demo_cmds import MARKER

PASS = "demo passphrase for tests"


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOTCHAIN_PASSPHRASE", PASS)
    for name in ("LOTCHAIN_HOME", "LOTCHAIN_DB", "LOTCHAIN_REMOTE", "LOTCHAIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _never_serve(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command that wrongly goes on to serve fails the test instead of blocking it."""
    import api.serve

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the command went on to serve")

    monkeypatch.setattr(api.serve, "serve", refuse)


def _digest(path: Path) -> str:
    """SHA-256 of a file; of its SQL dump for a SQLite database (its WAL may be merged)."""
    if path.suffix != ".db":
        return hashlib.sha256(path.read_bytes()).hexdigest()
    with contextlib.closing(sqlite3.connect(path)) as db:
        return hashlib.sha256("\n".join(db.iterdump()).encode()).hexdigest()


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with a digest of its content (SQLite's -wal and -shm
    side files come and go with connections)."""
    return {
        str(p.relative_to(folder)): _digest(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    }


@pytest.fixture
def real_home(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A ledger made with ``lotchain init``: keys, trust root, database; no demo marker."""
    home = tmp_path / "real"
    code, _, err = run_cli(capsys, "init", "--home", str(home))
    assert code == 0, err
    assert (home / "keys" / "log.pem").is_file() and (home / "keys" / "registrar.pem").is_file()
    return home


@pytest.fixture
def demo_home(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    home = tmp_path / "demo"
    code, _, err = run_cli(capsys, "demo", "--home", str(home), "--no-serve", "--json")
    assert code == 0, err
    assert (home / MARKER).is_file()
    return home


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something listens on."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def refused(err: str, code: str = "USAGE") -> bool:
    return err.startswith(f"error [{code}]: ") and "Traceback" not in err


# -- demo --fresh ---------------------------------------------------------------------


def test_fresh_never_deletes_the_lotchain_home_folder(
    real_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(real_home)
    monkeypatch.setenv("LOTCHAIN_HOME", str(real_home))
    code, _, err = run_cli(capsys, "demo", "--fresh", "--no-serve")
    assert code == 2 and refused(err)
    assert "LOTCHAIN_HOME" in err and "--home" in err
    assert snapshot(real_home) == before


def test_fresh_never_deletes_a_home_demo_did_not_create(
    real_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(real_home)
    code, _, err = run_cli(capsys, "demo", "--home", str(real_home), "--fresh", "--no-serve")
    assert code == 2 and refused(err)
    assert "not created by lotchain demo" in err and MARKER in err
    assert snapshot(real_home) == before


def test_demo_never_writes_into_a_folder_that_holds_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    code, _, err = run_cli(capsys, "demo", "--home", str(folder), "--no-serve")
    assert code == 2 and refused(err, "CONFIG")
    assert snapshot(folder) == {"notes.txt": hashlib.sha256(b"mine").hexdigest()}


def test_fresh_rebuilds_a_home_demo_created(
    demo_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old_trust = (demo_home / "keys" / "trust-root.json").read_bytes()
    code, out, err = run_cli(
        capsys, "demo", "--home", str(demo_home), "--fresh", "--no-serve", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["size"] > 10
    assert (demo_home / MARKER).is_file()
    assert (demo_home / "keys" / "trust-root.json").read_bytes() != old_trust  # new keys


@pytest.mark.parametrize(
    ("case", "args", "expect"),
    [
        ("short passphrase", [], "at least 8 bytes"),
        ("missing list", ["--screening-list", "MISSING"], "cannot read"),
        ("malformed list", ["--screening-list", "BAD"], ""),
        ("non-empty database", ["--db", "FULL"], "already holds a log"),
        ("busy port", ["--serve", "--port", "BUSY"], "--port"),
    ],
)
def test_every_input_is_checked_before_anything_is_deleted(
    demo_home: Path,
    real_home: Path,
    tmp_path: Path,
    busy_port: int,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    args: list[str],
    expect: str,
) -> None:
    if case == "short passphrase":
        monkeypatch.setenv("LOTCHAIN_PASSPHRASE", "short")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"not,a,screening\nlist\n")
    values = {
        "MISSING": str(tmp_path / "missing.csv"),
        "BAD": str(bad),
        "FULL": str(real_home / "lotchain.db"),
        "BUSY": str(busy_port),
    }
    before = snapshot(demo_home)
    args = [values.get(a, a) for a in args]
    code, _, err = run_cli(capsys, "demo", "--home", str(demo_home), "--fresh", "--no-serve", *args)
    assert code == 2, err
    assert err.startswith("error [") and "Traceback" not in err
    assert expect in err
    if case == "busy port":
        assert str(busy_port) in err
    assert snapshot(demo_home) == before


def test_scripts_demo_rebuilds_its_home_each_time(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LOTCHAIN_DEMO_HOME": str(tmp_path / "demo-home"),
        "LOTCHAIN_PASSPHRASE": PASS,
    }
    env.pop("LOTCHAIN_HOME", None)
    env.pop("LOTCHAIN_DB", None)
    sizes = []
    for _ in range(2):
        done = subprocess.run(
            ["bash", str(ROOT / "scripts" / "demo"), "--no-serve", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        sizes.append(json.loads(done.stdout)["size"])
    assert sizes[0] == sizes[1] > 10
    assert (tmp_path / "demo-home" / MARKER).is_file()


def test_demo_loads_the_projects_copy_of_the_entity_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = ROOT / "data" / "uflpa-entity-list.csv"
    code, out, err = run_cli(capsys, "demo", "--home", str(tmp_path / "d"), "--no-serve", "--json")
    assert code == 0, err
    screening = json.loads(out)["screening_list"]
    assert screening["sha256"] == hashlib.sha256(listed.read_bytes()).hexdigest()
    assert screening["listings"] == 91


# -- --db honoured; empty databases refused --------------------------------------------


@pytest.mark.postgres
def test_demo_builds_on_the_postgresql_database_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = pg.fresh_schema()
    home = tmp_path / "demo"
    code, out, err = run_cli(
        capsys, "demo", "--home", str(home), "--db", url, "--no-serve", "--json"
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["database"] == url
    assert not (home / "lotchain.db").exists()  # nothing built on SQLite
    code, out, err = run_cli(capsys, "audit", "--home", str(home), "--json")
    assert code == 0, err
    assert json.loads(out)["size"] == summary["size"]
    # A second demo on the same database is refused before its home is created.
    other = tmp_path / "other"
    code, _, err = run_cli(capsys, "demo", "--home", str(other), "--db", url, "--no-serve")
    assert code == 2 and refused(err) and "already holds a log" in err
    assert not other.exists()


def test_demo_builds_on_the_sqlite_file_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "elsewhere.db"
    code, out, err = run_cli(
        capsys, "demo", "--home", str(tmp_path / "d"), "--db", str(db), "--no-serve", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["database"] == str(db.resolve())
    assert db.is_file() and not (tmp_path / "d" / "lotchain.db").exists()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database that holds no log: an empty SQLite file, or an empty PostgreSQL schema."""
    if request.param == "postgresql":
        return pg.fresh_schema()
    path = tmp_path / "empty.db"
    path.touch()
    return str(path)


def test_audit_refuses_a_database_that_holds_no_log(
    real_home: Path, empty_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "audit", "--home", str(real_home), "--db", empty_db)
    assert code == 2 and refused(err, "CONFIG")
    assert "holds no log" in err and "passed" not in out
    code, out, err = run_cli(capsys, "audit", "--home", str(real_home), "--db", empty_db, "--json")
    assert code == 2 and json.loads(err)["error"]["code"] == "CONFIG" and out == ""


@pytest.mark.parametrize("mode", [[], ["--read-only"]], ids=["writable", "read-only"])
def test_serve_refuses_a_database_that_holds_no_log(
    real_home: Path, empty_db: str, capsys: pytest.CaptureFixture[str], mode: list[str]
) -> None:
    code, _, err = run_cli(
        capsys,
        "serve",
        "--home",
        str(real_home),
        "--db",
        empty_db,
        "--port",
        str(free_port()),
        *mode,
    )
    assert code == 2 and refused(err, "CONFIG") and "holds no log" in err


def test_error_messages_hide_a_database_password(real_home: Path) -> None:
    from ledger.storage.base import display_url

    assert (
        display_url("postgresql://app:s3cret@db.example/x") == "postgresql://app:***@db.example/x"
    )
    assert display_url("postgresql://app@db.example/x") == "postgresql://app@db.example/x"
    assert display_url(str(real_home / "lotchain.db")) == str(real_home / "lotchain.db")


def test_storage_refusal_hides_a_database_password() -> None:
    from ledger.errors import StorageError
    from ledger.storage import open_store

    url = f"postgresql://app:s3cret-pass@127.0.0.1:{free_port()}/nothing"
    with pytest.raises(StorageError) as caught:
        open_store(url)
    assert "s3cret-pass" not in str(caught.value)
    assert "app:***@127.0.0.1" in str(caught.value)


# -- serve: a busy port ------------------------------------------------------------------


def test_serve_on_a_busy_port_names_it_and_port_option(
    real_home: Path, busy_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(
        capsys, "serve", "--home", str(real_home), "--port", str(busy_port), "--read-only"
    )
    assert code == 2 and refused(err)
    assert f"port {busy_port}" in err and "already in use" in err and "--port" in err


def test_a_port_taken_after_the_check_is_still_named(
    real_home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import api.serve

    def taken(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EADDRINUSE, "Address already in use")

    monkeypatch.setattr(api.serve, "serve", taken)
    port = free_port()
    code, _, err = run_cli(
        capsys, "serve", "--home", str(real_home), "--port", str(port), "--read-only"
    )
    assert code == 2 and "Traceback" not in err
    assert f"error [USAGE]: port {port} on 127.0.0.1 is already in use" in err and "--port" in err


# -- audit --state ------------------------------------------------------------------------


def test_audit_state_must_exist_and_new_state_starts_one(
    real_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "witness.txt"
    code, out, err = run_cli(capsys, "audit", "--home", str(real_home), "--state", str(state))
    assert code == 2 and refused(err)
    assert str(state) in err and "--new-state" in err and "passed" not in out
    code, out, err = run_cli(capsys, "audit", "--home", str(real_home), "--new-state", str(state))
    assert code == 0, err
    assert state.read_bytes().startswith(b"lotchain.example/log\n1\n")
    code, out, err = run_cli(capsys, "audit", "--home", str(real_home), "--state", str(state))
    assert code == 0 and "audit passed" in out
    code, _, err = run_cli(capsys, "audit", "--home", str(real_home), "--new-state", str(state))
    assert code == 2 and refused(err) and "already exists" in err
    code, _, err = run_cli(
        capsys,
        "audit",
        "--home",
        str(real_home),
        "--state",
        str(state),
        "--new-state",
        str(tmp_path / "other.txt"),
    )
    assert code == 2 and refused(err)
