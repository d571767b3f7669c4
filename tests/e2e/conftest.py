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


# True once Streamlit's script state has read "notRunning" (connected) in every rendered frame for IDLE_MS.
# A click or a typed value shows as "rerunRequested" in the frame it is rendered in; an `st.rerun()` shows
# "notRunning" between its two runs, for as long as the server takes to start the second (no element tells
# the two apart), hence a state that must hold, not a fixed pause: the wait ends IDLE_MS after the app is idle.
IDLE_MS = 500
SETTLED = f"""() => {{
  const app = document.querySelector('[data-testid="stApp"]');
  const idle = app !== null && app.dataset.testConnectionState === "CONNECTED" && app.dataset.testScriptState === "notRunning";
  if (!idle) {{ window.__daiviIdleSince = null; return false; }}
  window.__daiviIdleSince = window.__daiviIdleSince ?? performance.now();
  return performance.now() - window.__daiviIdleSince >= {IDLE_MS};
}}"""


def wait_for_app(target) -> None:
    """Wait until Streamlit finished what the page load or the last action started (a page or a frame; state, not time)."""
    target.wait_for_selector('[data-testid="stApp"]')
    target.evaluate("() => { window.__daiviIdleSince = null; }")
    target.wait_for_function(SETTLED, polling="raf", timeout=PAGE_TIMEOUT_MS)


def shown_text(locator) -> str:
    """What a reader sees of an element: whitespace folded, the word joiners that keep addresses from autolinking dropped."""
    return " ".join(locator.inner_text().replace("\u2060", "").split())
