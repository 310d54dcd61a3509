"""Secrets stay secret: not in logs, not in error messages, compared in constant time."""

from __future__ import annotations

import hmac
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from api_fixtures import World, build_world
from conftest import PASSPHRASE
from ledger.cli import main
from ledger.errors import KeyFileError
from ledger.keys import Signer, load_private_key, save_private_key
from ledger.tokens import TokenStore
from test_api_server import _start, _stop


def _get(url: str, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_tokens_never_reach_the_server_log_or_its_answers(tmp_path: Path) -> None:
    world = build_world(tmp_path / "w")
    home = world.root / "home"
    url, process = _start(home)
    try:
        valid = world.tokens["party:rival"]
        forged = "lct_" + "A" * 43
        answers = [
            _get(url + "/v1/shipments", valid),
            _get(url + f"/v1/shipments/{world.ids['shipment']}/bundle", valid),  # 404
            _get(url + "/v1/shipments", forged),  # 401
            _get(url + "/v1/shipments", valid + "x"),  # malformed
        ]
    finally:
        _stop(process)
        world.ledger.store.close()
    assert [status for status, _ in answers][1:] == [404, 401, 401]
    log = next(home.parent.glob("serve-*.log")).read_bytes()
    for secret in (valid, forged):
        assert secret.encode() not in log
        for _, body in answers:
            assert secret.encode() not in body


def test_tokens_are_checked_with_a_constant_time_comparison(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world: World = build_world(tmp_path / "w")
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    store = TokenStore(world.ledger.store)
    assert store.authenticate(world.tokens["party:cbp"]) is not None
    assert len(calls) == 1 and all(len(x) == 32 for x in calls[0])  # hashes, never tokens
    world.ledger.store.close()


def test_token_list_and_errors_show_ids_never_tokens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world(tmp_path / "w")
    home = str(world.root / "home")
    monkeypatch.setenv("LOTCHAIN_PASSPHRASE", PASSPHRASE.decode())
    with pytest.raises(SystemExit):
        main(["token", "list", "--home", home, "--json"])
    listing = capsys.readouterr().out
    assert json.loads(listing)
    for token in world.tokens.values():
        assert token not in listing
    world.ledger.store.close()


def test_a_wrong_passphrase_is_never_echoed(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    save_private_key(path, Signer.generate(), b"the right passphrase")
    with pytest.raises(KeyFileError) as err:
        load_private_key(path, b"a guessed passphrase")
    assert "guessed" not in str(err.value) and "right" not in str(err.value)
    assert b"PRIVATE KEY" in path.read_bytes() and b"ENCRYPTED" in path.read_bytes()
