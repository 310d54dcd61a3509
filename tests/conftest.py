"""Shared fixtures: a real ledger in a temporary home, with a fixed clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import pg
from ledger.home import Home, init_home
from ledger.keys import load_private_key
from ledger.log import Ledger
from ledger.scenario import Scenario

PASSPHRASE = b"correct horse battery"
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]
#: Public test vectors (RFC 6962, C2SP signed-note, DSSE, RFC 8785, eddsa-jcs-2022), copied
#: byte for byte into the project; tests/vectors/external/SOURCES.md gives each origin.
EXTERNAL_VECTORS = ROOT / "tests" / "vectors" / "external"
#: U.S. Government lists (UFLPA Entity List, WRO and Findings) in the project: data/README.md.
DATA = ROOT / "data"
#: External standards (EPCIS, UNTP) under other licences: read in place, never copied.
SHARED_STANDARDS = ROOT.parent / "shared" / "standards"


def vendored_path(*parts: str) -> Path:
    """A public test file the project carries: ``vectors/...`` or ``data/...``.

    They are vendored (tests/vectors/external/, data/), so a clone anywhere passes; a
    missing one fails the test, never skips it.
    """
    kind, *rest = parts
    base = {"vectors": EXTERNAL_VECTORS, "data": DATA}.get(kind)
    assert base is not None, f"not a vendored folder: {kind} (standards: shared_standards_path)"
    path = base.joinpath(*rest)
    assert path.exists(), f"vendored test data missing: {path}"
    return path


def shared_standards_path(*parts: str) -> Path:
    """A file of ../shared/standards (EPCIS, UNTP), read where it lies, never copied.

    Where ../shared is absent (a clone on its own) the test skips with the reason, unless
    ``LOTCHAIN_REQUIRE_SHARED=1`` (set by .ci/run), where it fails instead.
    """
    path = SHARED_STANDARDS.joinpath(*parts)
    if path.exists():
        return path
    reason = f"external standard not beside the project: {path}"
    if os.environ.get("LOTCHAIN_REQUIRE_SHARED") == "1":
        pytest.fail(f"LOTCHAIN_REQUIRE_SHARED=1 but {reason}")
    pytest.skip(reason)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``lotchain ARGS`` in-process as the console script does: (exit code, out, err)."""
    from ledger.cli import main

    with pytest.raises(SystemExit) as done:
        main(list(args))
    captured = capsys.readouterr()
    code = done.value.code
    return (code if isinstance(code, int) else 1), captured.out, captured.err


class Clock:
    """A settable clock for ``Ledger(clock=...)``."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


BACKENDS = ["sqlite", "postgresql"]

#: For tests that edit the SQLite file itself: ``@SQLITE_ONLY`` on the test.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str | None:
    """The database of the ``home`` fixture: SQLite in the home, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return None
    return pg.fresh_schema()


@pytest.fixture(scope="session", autouse=True)
def _drop_postgres_schemas() -> Iterator[None]:
    yield
    pg.drop_schemas()


@pytest.fixture
def home(tmp_path: Path, db_url: str | None) -> Home:
    return init_home(tmp_path / "home", PASSPHRASE, now=T0, db=db_url)


@pytest.fixture
def ledger(home: Home, clock: Clock) -> Iterator[Ledger]:
    led = home.open_ledger(PASSPHRASE, clock=clock)
    yield led
    led.close()
    led.store.close()


@pytest.fixture
def scenario(home: Home, ledger: Ledger) -> Scenario:
    registrar = load_private_key(home.registrar_key_path, PASSPHRASE)
    return Scenario(ledger, "party:registrar", {"party:registrar": registrar}, seed=b"tests")
