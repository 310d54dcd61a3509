"""Build the demo ledger in a temporary folder, serve it, and photograph the console.

Laptop (1280 px) and phone (390 px) widths, in Debian's headless Chromium through the
system chromedriver (the same helpers as the browser tests, tests/browser.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from api import create_app  # noqa: E402
from browser import chromium, console_errors, serving  # noqa: E402

PASSPHRASE = "screenshots passphrase, not secret"
#: An allegation for the inbox, sent as the public sends one (POST /v1/allegations).
ALLEGATION = {
    "v": 1,
    "alleged": [{"name": "Anhui Xinya New Materials Co., Ltd.", "role": "producer",
                 "country": "CN"}],
    "merchandise": {"description": "Cotton yarn", "hs_codes": ["5205.11"]},
    "production": {"country": "CN", "region": "CN-AH"},
    "indicators": ["excessive-overtime", "retention-of-identity-documents"],
    "statement": "Spinners recruited from Xinjiang work 12-hour shifts; their identity "
                 "papers are held by the dormitory manager.",
}


def build_demo(home: Path) -> dict[str, Any]:
    env = {**os.environ, "LOTCHAIN_PASSPHRASE": PASSPHRASE}
    out = subprocess.run(
        [str(Path(sys.executable).parent / "lotchain"), "demo", "--home", str(home),
         "--no-serve", "--json"],
        env=env, check=True, capture_output=True, text=True, cwd=ROOT,
    ).stdout
    summary: dict[str, Any] = json.loads(out)
    return summary


def submit_allegation(site: str) -> str:
    request = urllib.request.Request(
        site + "/v1/allegations", data=json.dumps(ALLEGATION).encode(), method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        receipt: dict[str, Any] = json.loads(response.read())
    return str(receipt["allegation"])


def shoot(driver: Any, url: str, path: Path, *, full: bool = True) -> None:
    driver.get(url)
    errors = console_errors(driver)
    if errors:
        raise SystemExit(f"{url}: browser errors {errors}")
    time.sleep(0.2)
    if full:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        width = driver.execute_script("return window.innerWidth")
        driver.set_window_size(max(width, 390), min(int(height) + 120, 4000))
    driver.save_screenshot(str(path))
    print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "demo-home"
        summary = build_demo(home)
        failing = next(s for s in summary["shipments"] if "REGION_HIGH_RISK" in s["codes"])
        app = create_app(home, config={"LOTCHAIN_PASSPHRASE": PASSPHRASE})
        with serving(app) as site:
            allegation = submit_allegation(site)
            driver = chromium(1280, 900)
            try:
                driver.get(site + "/signin")
                driver.find_element("id", "token").send_keys(summary["tokens"]["cbp"])
                driver.find_element("css selector", "form.stack button[type=submit]").click()
                for _ in range(100):  # wait for the signed-in page
                    try:
                        if "Signed in as" in driver.find_element("tag name", "body").text:
                            break
                    except Exception:  # the page is being replaced
                        pass
                    time.sleep(0.1)
                pages = [
                    ("shipments", "/shipments"),
                    ("shipment", f"/shipments/{failing['entry_number']}"),
                    ("shipment-pass", f"/shipments/{summary['shipments'][0]['entry_number']}"),
                    ("certificates", "/certificates"),
                    ("party", "/parties/party:northbridge-cert"),
                    ("screening", "/screening"),
                    ("metrics", "/metrics"),
                    ("allegations", "/allegations"),
                    ("explorer", "/explorer"),
                ]
                for name, path in pages:
                    driver.set_window_size(1280, 900)
                    shoot(driver, site + path, args.out / f"{name}.png")
                # CBP links the allegation to the spinner it names: the page lists the
                # shipments whose chains touch it
                driver.set_window_size(1280, 900)
                driver.get(site + f"/allegations/{allegation}")
                driver.find_element("css selector", "#link-kind option[value=party]").click()
                driver.find_element("id", "link-value").send_keys("party:anhui-xinya\n")
                time.sleep(1.0)
                shoot(driver, site + f"/allegations/{allegation}", args.out / "allegation.png")
                driver.set_window_size(1280, 900)
                driver.get(site + f"/log?entry={failing['id']}")
                driver.find_element("id", "verify-inclusion").click()
                time.sleep(1.0)
                height = driver.execute_script("return document.documentElement.scrollHeight")
                driver.set_window_size(1280, int(height) + 120)
                driver.execute_script("window.scrollTo(0, 0)")
                driver.save_screenshot(str(args.out / "log.png"))
                print("  log.png (inclusion verified in the browser)")
                driver.set_window_size(390, 844)
                shoot(driver, site + f"/shipments/{failing['entry_number']}",
                      args.out / "shipment-phone.png", full=False)
            finally:
                driver.quit()
        app.extensions["lotchain"].ledger.store.close()


if __name__ == "__main__":
    main()
