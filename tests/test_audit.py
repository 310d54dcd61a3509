"""``lotchain audit``: passes on a clean log, names the entry after direct tampering."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from conftest import SQLITE_ONLY, T0, Clock
from ledger.audit import audit_log
from ledger.home import Home
from ledger.log import Ledger
from ledger.scenario import Scenario
from ledger.storage.ids import node_key


def _populate(scenario: Scenario, clock: Clock, count: int = 10) -> None:
    for i in range(count):
        clock.now = T0 + timedelta(minutes=i)
        scenario.party(f"party:mill-{i:02d}", f"Mill {i} Co., Ltd.", "BD", ["supplier"], clock.now)


def _tamper(db: str, sql: str, *params: object) -> None:
    """What an operator with file access can do: drop the guards, change a row."""
    with sqlite3.connect(db) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")]
        for name in names:
            conn.execute(f'DROP TRIGGER "{name}"')
        conn.execute(sql, params)


@SQLITE_ONLY
def test_clean_log_passes(scenario: Scenario, ledger: Ledger, clock: Clock) -> None:
    _populate(scenario, clock)
    report = audit_log(ledger.store, ledger.trust)
    assert report.ok, report.findings
    assert report.size == 11 and report.checkpoints == 11


def _flip(blob: bytes, offset: int) -> bytes:
    return blob[:offset] + bytes([blob[offset] ^ 0x01]) + blob[offset + 1 :]


@SQLITE_ONLY
@pytest.mark.parametrize("column", ["envelope", "leaf"])
def test_a_changed_byte_is_found_and_named(
    scenario: Scenario, ledger: Ledger, clock: Clock, column: str
) -> None:
    _populate(scenario, clock)
    blob = getattr(ledger.store.get(6), column)
    _tamper(ledger.store.url, f"UPDATE entry SET {column} = ? WHERE idx = 6", _flip(blob, 40))
    report = audit_log(ledger.store, ledger.trust)
    assert not report.ok
    assert report.first_bad_index == 6
    assert {f.code for f in report.findings} & {"LOG_CHAIN", "MALFORMED", "SIGNATURE"}


@SQLITE_ONLY
def test_a_changed_stored_node_is_found(scenario: Scenario, ledger: Ledger, clock: Clock) -> None:
    _populate(scenario, clock)
    _tamper(ledger.store.url, "UPDATE node SET hash = ? WHERE key = ?", bytes(32), node_key(1, 2))
    report = audit_log(ledger.store, ledger.trust)
    assert [(f.code, f.index, f.step) for f in report.findings] == [("LOG_CHAIN", 5, 6)]


@SQLITE_ONLY
def test_a_deleted_last_entry_is_found(scenario: Scenario, ledger: Ledger, clock: Clock) -> None:
    _populate(scenario, clock)
    _tamper(ledger.store.url, "DELETE FROM entry WHERE idx = 10")
    report = audit_log(ledger.store, ledger.trust)
    assert not report.ok
    assert report.first_bad_index == 10


@SQLITE_ONLY
def test_cli_audit_exit_codes(
    home: Home,
    scenario: Scenario,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from ledger.cli import main

    _populate(scenario, clock, 3)
    with pytest.raises(SystemExit) as done:
        main(["audit", "--home", str(home.path)])
    assert done.value.code == 0
    assert "audit passed: 4 entries" in capsys.readouterr().out
    blob = scenario.ledger.store.get(2).envelope
    _tamper(
        str(Path(home.path) / "lotchain.db"),
        "UPDATE entry SET envelope = ? WHERE idx = 2",
        _flip(blob, 100),
    )
    with pytest.raises(SystemExit) as done:
        main(["audit", "--home", str(home.path)])
    assert done.value.code == 1
    out = capsys.readouterr().out
    assert "first bad index 2" in out
