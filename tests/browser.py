"""A real headless Chromium for the console tests: Debian's chromium and chromium-driver.

The driver is always the system one (/usr/bin/chromedriver), named explicitly so that
Selenium never looks for, or downloads, another. Without the browser the tests skip,
saying why, except under ``LOTCHAIN_REQUIRE_BROWSER=1`` (set by .ci/run): there they fail.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def require_browser() -> None:
    """Skip (or, under LOTCHAIN_REQUIRE_BROWSER=1, fail) without chromium and its driver."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    reason = ""
    if missing:
        reason = (
            f"no {' and no '.join(missing)}: install Debian's chromium and chromium-driver "
            "(scripts/_setup.sh does, as root)"
        )
    else:
        try:
            import selenium  # noqa: F401
        except ImportError:
            reason = "selenium is not installed (pip install -e '.[test]')"
    if not reason:
        return
    if os.environ.get("LOTCHAIN_REQUIRE_BROWSER") == "1":
        pytest.fail(f"LOTCHAIN_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def chromium(width: int = 1280, height: int = 900) -> Any:
    """A headless Chromium driven through the system chromedriver; browser logs kept."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # tests may run as root in a container
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(20)
    driver.set_script_timeout(20)
    return driver


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with waitress on a free 127.0.0.1 port in a thread; yields its URL."""
    import waitress

    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(timeout=5)


def console_errors(driver: Any) -> list[str]:
    """The browser's SEVERE log entries since the last call (script errors, failed loads)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
