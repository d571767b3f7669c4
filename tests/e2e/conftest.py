"""Browser tests: a real `streamlit run` on a free port, driven by Playwright in Debian's Chromium.

The tier fails (never skips) when Chromium is missing: run `make test`, which installs it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from daivi_data.settings import PROJECT_ROOT

CHROMIUM = os.environ.get("DAIVI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
SERVER_START_TIMEOUT_S = 60
PAGE_TIMEOUT_MS = 60_000

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(env: dict[str, str], log_path: Path, port: int | None = None, extra_args: tuple[str, ...] = ()) -> Iterator[str]:
    """Run `streamlit run Home.py` on a free (or the given) port until the block ends; yields its base URL."""
    port = port or _free_port()
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "Home.py"), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none", *extra_args],
            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def app_url(app_env, tmp_path_factory) -> Iterator[str]:
    """Base URL of the app, started once per session against the small lakehouse."""
    with streamlit_server({**os.environ, **app_env}, tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (make chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(PAGE_TIMEOUT_MS)
    yield pg
    context.close()


# Resolves after two animation frames: by then the page has rendered what the last action changed. A click or a
# typed value sets Streamlit's script state to "rerunRequested" in that same render (App.rerunScript /
# sendRerunBackMsg), so "notRunning" seen afterwards is the end of the run the action caused, not the state before it.
RENDERED = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))"
CONNECTED = '[data-testid="stApp"][data-test-connection-state="CONNECTED"]'
NOT_RUNNING = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def wait_for_app(pg) -> None:
    """Wait until Streamlit finished the script run the page load or the last action started (state, not time)."""
    pg.wait_for_selector(CONNECTED)
    pg.evaluate(RENDERED)
    pg.wait_for_selector(NOT_RUNNING, timeout=PAGE_TIMEOUT_MS)


def shown_text(locator) -> str:
    """What a reader sees of an element: whitespace folded, the word joiners that keep addresses from autolinking dropped."""
    return " ".join(locator.inner_text().replace("\u2060", "").split())
