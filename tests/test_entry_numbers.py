"""Filer codes: declared with ``party register --filer-code``, stored by migration 4."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import PASSPHRASE, run_cli
from ledger.home import Home
from ledger.storage import migrations
from ledger.storage.sql import SqlStore


def test_party_register_declares_filer_codes(
    home: Home, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOTCHAIN_PASSPHRASE", PASSPHRASE.decode())
    monkeypatch.delenv("LOTCHAIN_HOME", raising=False)
    key = str(tmp_path / "acme.pem")
    assert run_cli(capsys, "keys", "generate", "--out", key, "--json")[0] == 0
    code, out, err = run_cli(
        capsys,
        "party",
        "register",
        "--home",
        str(home.path),
        "--party",
        "party:acme-apparel",
        "--name",
        "Acme Apparel Inc.",
        "--country",
        "US",
        "--role",
        "importer",
        "--public-key",
        key + ".pub",
        "--filer-code",
        "aap",
        "--filer-code",
        "AAP",
        "--filer-code",
        "B12",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["index"] == 1
    store = SqlStore.open(home.db_url())
    try:
        record = store.party("party:acme-apparel")
        assert record is not None and record.filer_codes == ("AAP", "B12")
    finally:
        store.close()
    code, _, err = run_cli(
        capsys,
        "party",
        "register",
        "--home",
        str(home.path),
        "--party",
        "party:other",
        "--name",
        "Other Imports",
        "--country",
        "US",
        "--role",
        "importer",
        "--public-key",
        key + ".pub",
        "--filer-code",
        "TOOLONG",
    )
    assert code == 2 and "SCHEMA" in err


def test_migration_4_adds_filer_codes_to_an_older_database(home: Home) -> None:
    """A database made before filer codes gets the column; its parties declare none."""
    store = SqlStore.open(home.db_url())
    try:
        store.db.execute_sql('ALTER TABLE "party_version" DROP COLUMN filer_codes')
        migrations._party_filer_codes(store)
        migrations._party_filer_codes(store)  # idempotent: a fresh database has it already
        record = store.party("party:registrar")
        assert record is not None and record.filer_codes == ()
    finally:
        store.close()
