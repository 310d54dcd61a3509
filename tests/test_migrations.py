"""Versioned migrations: applied once, in order, on both backends; never downgraded."""

from __future__ import annotations

import pytest

from ledger.errors import ConfigError
from ledger.home import Home
from ledger.storage import migrations
from ledger.storage.migrations import MIGRATIONS, Migration, status
from ledger.storage.sql import SqlStore


def test_a_new_database_is_at_the_latest_version(home: Home) -> None:
    store = SqlStore.open(home.db_url())
    try:
        state = status(store)
        assert state.version == MIGRATIONS[-1].version
        assert [v for v, _, _ in state.applied] == [m.version for m in MIGRATIONS]
        assert state.pending == ()
        assert not store.is_replica()
    finally:
        store.close()


def test_a_later_migration_is_applied_once_on_reopen(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def add_index(store: SqlStore) -> None:
        calls.append(store.url)
        store.db.execute_sql('CREATE INDEX shipment_by_attestation2 ON "shipment" (attestation)')

    later = Migration(MIGRATIONS[-1].version + 1, "an index for a test", add_index)
    monkeypatch.setattr(migrations, "MIGRATIONS", (*MIGRATIONS, later))
    for _ in range(2):
        store = SqlStore.open(home.db_url())
        state = status(store)
        store.close()
    assert len(calls) == 1
    assert state.version == later.version and state.pending == ()


def test_a_database_newer_than_the_code_is_refused(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS[:1])
    with pytest.raises(ConfigError, match="newer than this lotchain"):
        SqlStore.open(home.db_url())


def test_cli_db_status(home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    from ledger.cli import main

    with pytest.raises(SystemExit) as done:
        main(["db", "status", "--home", str(home.path)])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert f"schema version {MIGRATIONS[-1].version}" in out and "applied   1" in out


def test_list_kinds_reach_a_database_made_before_them(home: Home) -> None:
    """Migration 8 on a database at version 7: its list versions become entity lists."""
    from ledger.lists import loaded_versions

    store = SqlStore.open(home.db_url())
    try:  # turn the fresh database back into one of version 7, with a list recorded
        drop = (
            'DROP TRIGGER IF EXISTS schema_migration_no_delete ON "schema_migration"'
            if store.is_postgres
            else 'DROP TRIGGER IF EXISTS "schema_migration_no_delete"'
        )
        store.db.execute_sql(drop)
        store.db.execute_sql('DELETE FROM "schema_migration" WHERE version >= 8')
        store.db.execute_sql('ALTER TABLE "screening_list" DROP COLUMN kind')
        p = store.db.param
        store.db.execute_sql(
            f'INSERT INTO "screening_list" (name, sha256, loaded_at, source, data) '
            f"VALUES ({p}, {p}, {p}, {p}, {p})",
            ("old", "0" * 64, "2025-01-01T00:00:00.000000Z", None, b"name\nAcme Co\n"),
        )
        assert status(store).version == 7
    finally:
        store.close()
    store = SqlStore.open(home.db_url())
    try:
        assert status(store).version == MIGRATIONS[-1].version
        (old,) = loaded_versions(store)
        assert old.kind == "entity" and old.name == "old"
    finally:
        store.close()
