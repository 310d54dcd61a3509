"""The console in a real headless Chromium (Debian's chromium + chromium-driver).

One browser and one server (waitress on a free 127.0.0.1 port) for the module. CBP, an
importer and a supplier sign in and see exactly what the API lets them see; no page
logs a browser error; the in-browser log checks (RFC 9162 inclusion, Ed25519 checkpoint
signatures through Web Crypto) pass on the published Merkle vectors and the golden
checkpoint, and fail on tampered ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nacl.signing import SigningKey

from api import create_app
from api_fixtures import World, add_allegation, add_enforcement, build_world
from browser import chromium, console_errors, require_browser, serving
from ledger.checkpoint import sign_checkpoint, verify_checkpoint, vkey_for

VECTORS = Path(__file__).parent / "vectors"
MERKLE = VECTORS / "external" / "merkle" / "inclusion"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = build_world(tmp_path_factory.mktemp("browser"))
    add_enforcement(w)  # Globex's shipment detained and excluded, Acme's answered
    add_allegation(w)
    yield w
    w.ledger.store.close()


@pytest.fixture(scope="module")
def site(world: World) -> Iterator[str]:
    require_browser()
    with serving(create_app(ledger=world.ledger)) as url:
        yield url


@pytest.fixture(scope="module")
def driver(site: str) -> Iterator[Any]:
    browser = chromium()
    try:
        yield browser
    finally:
        browser.quit()


def _by(kind: str) -> Any:
    from selenium.webdriver.common.by import By

    return getattr(By, kind)


def visit(driver: Any, url: str) -> str:
    """Open ``url``, fail on any browser error, and return the visible text of <main>."""
    driver.get(url)
    errors = console_errors(driver)
    assert not errors, f"{url}: {errors}"
    text: str = driver.find_element(_by("ID"), "main").text
    return text


def _reloaded() -> tuple[type[Exception], ...]:
    """Errors of an element read while the page under it is replaced (wait and retry)."""
    from selenium.common.exceptions import (
        NoSuchElementException,
        StaleElementReferenceException,
    )

    return (StaleElementReferenceException, NoSuchElementException)


def sign_in(driver: Any, site: str, token: str) -> None:
    driver.delete_all_cookies()
    visit(driver, site + "/signin")
    driver.find_element(_by("ID"), "token").send_keys(token)
    driver.find_element(_by("CSS_SELECTOR"), "form.stack button[type=submit]").click()
    from selenium.webdriver.support.ui import WebDriverWait

    def header(d: Any) -> str:
        found = d.find_elements(_by("CSS_SELECTOR"), "header .who")
        return str(found[0].text) if found else ""

    WebDriverWait(driver, 15, ignored_exceptions=_reloaded()).until(
        lambda d: "Signed in as" in header(d)
    )
    assert not console_errors(driver)


def wait_for_text(driver: Any, element_id: str, timeout: float = 10) -> str:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout, ignored_exceptions=_reloaded()).until(
        lambda d: d.find_element(_by("ID"), element_id).text.strip() not in ("", "\u2026")
    )
    text: str = driver.find_element(_by("ID"), element_id).text
    return text


def test_the_session_cookie_is_hardened_in_the_browser(driver: Any, site: str,
                                                       world: World) -> None:
    sign_in(driver, site, world.tokens["party:cbp"])
    cookies = {c["name"]: c for c in driver.get_cookies()}
    cookie = cookies["__Host-lotchain-console"]
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert driver.execute_script("return document.cookie") == ""  # not readable by scripts


def test_cbp_sees_every_shipment_and_its_graph(driver: Any, site: str, world: World) -> None:
    sign_in(driver, site, world.tokens["party:cbp"])
    listing = visit(driver, site + "/shipments")
    assert "ACM-1234567-8" in listing and "GLX-7654321-0" in listing
    page = visit(driver, site + "/shipments/GLX-7654321-0")
    assert "Fail" in page and "REGION_HIGH_RISK" in page
    nodes = driver.find_elements(_by("CSS_SELECTOR"), "#graph .node")
    details = driver.find_elements(_by("CSS_SELECTOR"), ".node-detail")
    assert len(nodes) == len(details) >= 3
    # one attestation's details at a time; selecting a node shows its own
    assert sum(d.is_displayed() for d in details) == 1
    origin = next(n for n in nodes if "node-error" in n.get_attribute("class"))
    origin.click()
    shown = [d for d in details if d.is_displayed()]
    assert len(shown) == 1 and shown[0].get_attribute("id") == origin.get_attribute("data-node")
    assert "Kashgar" in shown[0].text and "origin" in shown[0].text
    assert "selected" in origin.get_attribute("class")
    assert not console_errors(driver)
    for path in ("/", "/parties", "/parties/party:auditor", "/facilities",
                 "/facilities/facility:rival", "/certificates", "/certificates/FLA-GIN-2025",
                 "/screening", "/explorer", "/shipments?region=CN-XJ"):
        visit(driver, site + path)


def test_an_importer_sees_only_its_own(driver: Any, site: str, world: World) -> None:
    sign_in(driver, site, world.tokens["party:acme"])
    listing = visit(driver, site + "/shipments")
    assert "ACM-1234567-8" in listing and "GLX-7654321-0" not in listing
    assert "Download the evidence bundle" in visit(driver, site + "/shipments/ACM-1234567-8")
    driver.get(site + "/shipments/GLX-7654321-0")
    other = driver.page_source.replace("GLX-7654321-0", "REF")
    driver.get(site + "/shipments/GLX-7654321-9")
    missing = driver.page_source.replace("GLX-7654321-9", "REF")
    assert other == missing
    nav = driver.find_element(_by("TAG_NAME"), "nav").text
    assert "Screening" not in nav and "Metrics" not in nav and "Allegations" not in nav
    driver.get(site + "/metrics")
    assert "that you may see" in driver.find_element(_by("ID"), "main").text
    driver.get_log("browser")  # the 404 documents are logged as failed loads; expected


def test_cbp_sees_the_dashboard_the_inbox_and_the_enforcement_history(
    driver: Any, site: str, world: World
) -> None:
    sign_in(driver, site, world.tokens["party:cbp"])
    driver.find_element(_by("LINK_TEXT"), "Metrics").click()
    text = wait_for_text(driver, "totals")
    assert "Shipments" in text and not console_errors(driver)
    charts = driver.find_elements(_by("CSS_SELECTOR"), "svg.bars")
    assert len(charts) == 5 and all(c.size["width"] > 200 for c in charts)
    assert "1 shipment, 1 stopped" in driver.find_element(_by("ID"), "chart-status").text
    # the figures are in a table behind a disclosure, opened from the keyboard
    from selenium.webdriver.common.keys import Keys

    summary = driver.find_element(_by("CSS_SELECTOR"), "#chart-country summary")
    table = driver.find_element(_by("CSS_SELECTOR"), "#chart-country table")
    assert not table.is_displayed()
    summary.send_keys(Keys.ENTER)
    assert table.is_displayed() and "Total" in table.text
    # the inbox, an allegation, and a link made through its form
    driver.find_element(_by("LINK_TEXT"), "Allegations").click()
    driver.find_element(_by("LINK_TEXT"), world.ids["allegation"]).click()
    assert "Intact" in wait_for_text(driver, "integrity") and not console_errors(driver)
    driver.find_element(_by("ID"), "link-value").send_keys("party:rival", Keys.ENTER)
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 10, ignored_exceptions=_reloaded()).until(
        lambda d: "GLX-7654321-0" in d.find_element(_by("ID"), "impact").text
    )
    assert "party:rival" in driver.find_element(_by("ID"), "links").text
    assert not console_errors(driver)
    page = visit(driver, site + "/shipments/GLX-7654321-0")
    assert "Enforcement: excluded" in page
    history = driver.find_element(_by("ID"), "enforcement-history").text
    assert "CBP detained the shipment" in history and "CBP decided: excluded" in history
    assert "signed by U.S. Customs and Border Protection (party:cbp)" in history


def test_a_supplier_sees_no_shipment(driver: Any, site: str, world: World) -> None:
    sign_in(driver, site, world.tokens["party:farm"])
    listing = visit(driver, site + "/shipments")
    assert "No shipment matches" in listing
    facilities = visit(driver, site + "/facilities")
    assert "facility:farm" in facilities and "facility:rival" not in facilities


def test_the_log_page_checks_the_checkpoint_and_an_inclusion_proof(
    driver: Any, site: str, world: World
) -> None:
    driver.delete_all_cookies()
    index = world.ids["shipment_index"]
    visit(driver, f"{site}/log?entry={index}")
    driver.find_element(_by("ID"), "verify-inclusion").click()
    result = wait_for_text(driver, "inclusion-result")
    assert result.startswith("\u2713") and f"entry {index} is in the log" in result, (
        result, driver.find_element(_by("ID"), "checkpoint-result").text)
    assert wait_for_text(driver, "checkpoint-result").startswith("\u2713")
    # another log's key: the checkpoint is refused, and so the proof has nothing to stand on
    other = json.loads((VECTORS / "trust-root.json").read_text())["log"]["vkey"]
    field = driver.find_element(_by("ID"), "vkey")
    field.clear()
    field.send_keys(other)
    driver.execute_script("document.getElementById('inclusion-result').textContent = ''")
    driver.find_element(_by("ID"), "verify-inclusion").click()
    result = wait_for_text(driver, "inclusion-result")
    assert result.startswith("\u2717"), result
    assert "not verified" in driver.find_element(_by("ID"), "checkpoint-result").text
    assert not console_errors(driver)


def _run(driver: Any, script: str, *args: Any) -> Any:
    """Run an async check in the page: resolves to "ok" or to the error's message."""
    wrapped = (
        "const done = arguments[arguments.length - 1];"
        f"(async () => {{ {script} }})()"
        ".then(() => done('ok'), (e) => done('error: ' + e.message));"
    )
    return driver.execute_async_script(wrapped, *args)


def test_the_browser_checks_pass_and_fail_on_the_merkle_vectors(driver: Any, site: str) -> None:
    visit(driver, site + "/log/selftest")
    assert driver.find_element(_by("ID"), "selftest-ready").get_attribute("data-ready") == "yes"
    files = sorted(MERKLE.rglob("*.json"))
    vectors = [json.loads(p.read_text()) for p in files]
    assert len(vectors) > 50
    results = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const L = window.LotchainLog;
        (async () => {
          const out = [];
          for (const v of arguments[0]) {
            try {
              await L.verifyInclusion(L.b64decode(v.leafHash), v.leafIdx, v.treeSize,
                                      (v.proof || []).map(L.b64decode), L.b64decode(v.root));
              out.push("ok");
            } catch (e) { out.push("error: " + e.message); }
          }
          return out;
        })().then(done, (e) => done(["crashed: " + e.message]));
        """,
        vectors,
    )
    assert len(results) == len(vectors)
    for path, vector, result in zip(files, vectors, results, strict=True):
        name = path.relative_to(MERKLE)
        if vector["wantErr"]:
            assert result.startswith("error: "), f"{name} should fail: {result}"
        else:
            assert result == "ok", f"{name}: {result}"
    happy = json.loads((MERKLE / "1" / "happy-path.json").read_text())
    tampered = dict(happy, proof=[happy["proof"][0][:-4] + "AAA=", *happy["proof"][1:]])
    assert _run(driver, "await window.LotchainLog.verifyInclusion("
                "...arguments[0].map(window.LotchainLog.b64decode).slice(0, 1), arguments[1], "
                "arguments[2], arguments[3].map(window.LotchainLog.b64decode), "
                "window.LotchainLog.b64decode(arguments[4]));",
                [tampered["leafHash"]], tampered["leafIdx"], tampered["treeSize"],
                tampered["proof"], tampered["root"]).startswith("error: ")


def test_the_browser_checks_the_golden_checkpoint_signature(driver: Any, site: str) -> None:
    visit(driver, site + "/log/selftest")
    note = (VECTORS / "checkpoint.txt").read_text()
    vkey = json.loads((VECTORS / "trust-root.json").read_text())["log"]["vkey"]
    check = "await window.LotchainLog.verifyCheckpoint(arguments[0], arguments[1]);"
    assert _run(driver, check, note, vkey) == "ok"
    lines = note.split("\n")
    bigger = "\n".join([lines[0], str(int(lines[1]) + 1), *lines[2:]])
    assert _run(driver, check, bigger, vkey).startswith("error: no valid signature")
    name, key_hash, key = vkey.split("+")
    flipped = key[:-3] + ("B" if key[-3] != "B" else "C") + key[-2:]
    assert _run(driver, check, note, f"{name}+{key_hash}+{flipped}").startswith("error: ")
    # a key whose base64 holds '+' (the vkey's own separator) is read as Python reads it
    seed = next(
        bytes([i]) * 32 for i in range(256)
        if "+" in vkey_for("x.example/log", bytes(SigningKey(bytes([i]) * 32).verify_key))
    )
    signed = sign_checkpoint("x.example/log", 3, bytes(range(32)), SigningKey(seed))
    plus = vkey_for("x.example/log", bytes(SigningKey(seed).verify_key))
    verify_checkpoint(signed.note, plus)
    assert _run(driver, check, signed.note.decode(), plus) == "ok"
    assert not console_errors(driver)


def test_the_api_explorer_tries_a_route(driver: Any, site: str) -> None:
    visit(driver, site + "/explorer")
    form = driver.find_element(_by("CSS_SELECTOR"), 'form.try[data-path="/healthz"]')
    form.find_element(_by("CSS_SELECTOR"), "button").click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 10, ignored_exceptions=_reloaded()).until(
        lambda d: "200" in form.find_element(_by("CSS_SELECTOR"), ".response").text
    )
    assert '"status": "ok"' in form.find_element(_by("CSS_SELECTOR"), ".response").text
    assert not console_errors(driver)


def test_pages_fit_a_phone(driver: Any, site: str, world: World) -> None:
    sign_in(driver, site, world.tokens["party:cbp"])
    driver.set_window_size(390, 844)
    try:
        for path in ("/shipments", "/shipments/ACM-1234567-8", "/log", "/certificates",
                     "/metrics"):
            visit(driver, site + path)
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 1, f"{path} scrolls sideways by {overflow}px on a phone"
    finally:
        driver.set_window_size(1280, 900)
