"""`lotchain verify`, `screening` and `impact`, run in-process as the console script runs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import run_cli
from verify_fixtures import (
    AUDITOR,
    ENTITY_LIST,
    ENTRY_NUMBER,
    IMPORTER,
    PASSPHRASE,
    CottonChain,
    World,
    bare_world_fixture,  # noqa: F401 - the `bare_world` fixture
    day,
    world_fixture,  # noqa: F401 - the `world` fixture
)

run = run_cli


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOTCHAIN_PASSPHRASE", PASSPHRASE.decode())
    for name in (
        "LOTCHAIN_HOME",
        "LOTCHAIN_DB",
        "LOTCHAIN_REMOTE",
        "LOTCHAIN_TOKEN",
        "LOTCHAIN_TRUST_ROOT",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def built(world: World) -> World:
    CottonChain(world).build()
    return world


def home(w: World) -> list[str]:
    return ["--home", str(w.home.path)]


def test_verify_shipment_report_and_json(built: World, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "verify", "shipment", ENTRY_NUMBER, *home(built))
    assert code == 0
    assert "Verdict: PASS" in out
    for text in (
        "tier 0",
        "shipment",
        "ginning",
        "Shree Gin Rajkot [IN-GJ]",
        "certificate SA8000-SPINNER-2024",
        "Coimbatore Spinners Limited (IN)",
        "Findings:\n  none",
    ):
        assert text in out, text
    code, out, _ = run(capsys, "verify", "shipment", built.ids["shipment"], "--json", *home(built))
    assert code == 0
    verdict = json.loads(out)
    assert verdict["status"] == "pass" and verdict["shipment"] == built.ids["shipment"]


def test_verify_bundle_offline_equals_online(
    built: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle.json"
    code, online, _ = run(
        capsys, "verify", "shipment", ENTRY_NUMBER, "--bundle", str(bundle), "--json", *home(built)
    )
    assert code == 0 and bundle.exists()
    trust = built.home.trust_root_path
    code, offline, _ = run(
        capsys, "verify", "bundle", str(bundle), "--trust-root", str(trust), "--json"
    )
    assert code == 0
    assert json.loads(offline) == json.loads(online)
    code, text, _ = run(capsys, "verify", "bundle", str(bundle), "--trust-root", str(trust))
    assert code == 0 and "Verdict: PASS" in text
    data = json.loads(bundle.read_text())
    data["entries"][3]["envelope"]["signatures"][0]["sig"] = "A" * 86 + "=="
    bundle.write_text(json.dumps(data))
    code, out, _ = run(capsys, "verify", "bundle", str(bundle), "--trust-root", str(trust))
    assert code == 1 and "Verdict: FAIL" in out and "SIGNATURE" in out


def test_exit_codes_review_and_fail(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    chain = CottonChain(world)
    chain.actors()
    chain.certify(keys=("gin", "spinner", "garment"))
    for stage in (chain.farm, chain.gin, chain.spin, chain.knit, chain.sew, chain.ship):
        stage()
    code, out, _ = run(capsys, "verify", "shipment", ENTRY_NUMBER, *home(world))
    assert code == 3 and "Verdict: REVIEW" in out and "CERT_MISSING" in out
    world.s.revoke(
        AUDITOR,
        world.ids["cert:spinner"],
        "Withdrawn",
        day("2025-03-01"),
        world.at(day("2025-04-12")),
    )
    code, out, _ = run(capsys, "verify", "shipment", ENTRY_NUMBER, *home(world))
    assert code == 1 and "CERT_INVALID" in out


def test_bad_input_exits_2_without_traceback(
    built: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "verify", "shipment", "NOPE-0000000-0", *home(built))
    assert code == 2 and "NOT_FOUND" in err and "Traceback" not in err
    junk = tmp_path / "junk.json"
    junk.write_bytes(b"\x00not json")
    code, _, err = run(
        capsys, "verify", "bundle", str(junk), "--trust-root", str(built.home.trust_root_path)
    )
    assert code == 2 and "MALFORMED" in err
    code, _, err = run(
        capsys, "verify", "bundle", str(junk), "--trust-root", str(tmp_path / "none.json")
    )
    assert code == 2 and "CONFIG" in err
    code, _, err = run(capsys, "impact", *home(built))
    assert code == 2 and "USAGE" in err


def test_screening_load_list_and_impact(
    bare_world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world = bare_world
    chain = CottonChain(world)
    chain.actors(names={"gin": "Xinjiang Zhongtai Chemical Co., Ltd."})  # listed 2023-06-12
    chain.certify()
    for stage in (chain.farm, chain.gin, chain.spin, chain.knit, chain.sew, chain.ship):
        stage()
    code, out, _ = run(capsys, "screening", "list", *home(world))
    assert code == 0 and "no screening list loaded" in out
    code, out, _ = run(
        capsys,
        "screening",
        "load",
        str(ENTITY_LIST),
        "--name",
        "UFLPA Entity List",
        "--impact",
        *home(world),
    )
    assert code == 0
    assert "loaded: UFLPA Entity List (entity, 91 listings)" in out and ENTRY_NUMBER in out
    code, out, _ = run(capsys, "screening", "list", "--json", *home(world))
    lists = json.loads(out)["lists"]
    assert [x["name"] for x in lists] == ["UFLPA Entity List"] and len(lists[0]["sha256"]) == 64
    code, out, _ = run(capsys, "verify", "shipment", ENTRY_NUMBER, *home(world))
    assert code == 1 and "ENTITY_LISTED" in out and "Screening lists: UFLPA Entity List" in out
    code, out, _ = run(capsys, "impact", "--party", chain.party("gin"), *home(world))
    assert code == 0 and ENTRY_NUMBER in out
    code, out, _ = run(capsys, "impact", "--region", "IN-GJ", "--json", *home(world))
    assert json.loads(out)["shipments"][0]["shipment"] == world.ids["shipment"]
    code, out, _ = run(capsys, "impact", "--lot", "CSL-IN-25-0042", *home(world))
    assert ENTRY_NUMBER in out
    code, out, _ = run(capsys, "impact", "--facility", "facility:nowhere", *home(world))
    assert "no shipment touches it" in out


def _serve(home_path: Path) -> tuple[str, subprocess.Popen[bytes]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "LOTCHAIN_PASSPHRASE": PASSPHRASE.decode()}
    log = home_path.parent / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from ledger.cli import main; main()",
                "serve",
                "--home",
                str(home_path),
                "--port",
                str(port),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return url, process
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    process.kill()
    process.wait(timeout=15)
    raise AssertionError(f"lotchain serve did not start: {log.read_text(errors='replace')[-2000:]}")


@pytest.mark.slow
def test_verify_shipment_remote_rechecks_the_servers_bundle(
    built: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from ledger.tokens import TokenStore

    token = TokenStore(built.ledger.store).issue(IMPORTER, now=built.clock.now).token
    shipment = built.ids["shipment"]
    code, local, _ = run(capsys, "verify", "shipment", shipment, "--json", *home(built))
    url, process = _serve(built.home.path)
    try:
        code, remote, _ = run(
            capsys,
            "verify",
            "shipment",
            shipment,
            "--json",
            "--remote",
            url,
            "--token",
            token,
            *home(built),
        )
        assert code == 0
        assert json.loads(remote) == json.loads(local)
        code, _, err = run(
            capsys, "impact", "--party", IMPORTER, "--remote", url, "--token", token, *home(built)
        )
        assert code == 2 and "FORBIDDEN" in err  # impact queries are for CBP only
    finally:
        process.terminate()
        process.wait(timeout=15)
