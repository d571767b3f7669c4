"""AppTest fixtures: run the real app (Home.py entry point) against the small lakehouse."""

from __future__ import annotations

import os
import re

import pytest
from streamlit.testing.v1 import AppTest

from daivi_data.settings import PROJECT_ROOT

APP_TIMEOUT_S = 120


@pytest.fixture(scope="session", autouse=True)
def _app_environment(app_env):
    """AppTest runs the scripts in this process: point the settings at the test lakehouse."""
    saved = {k: os.environ.get(k) for k in app_env}
    os.environ.update(app_env)
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def run_page():
    """run_page(persona, page=None, **query_params) -> AppTest after the first run of that page.

    `page` is a script under views/ (e.g. "cost_explorer.py"); None stays on Home.
    """

    def _run(persona: str = "admin", page: str | None = None, **params: str) -> AppTest:
        at = AppTest.from_file(str(PROJECT_ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S)
        at.query_params["persona"] = persona
        for key, value in params.items():
            at.query_params[key] = value
        at.run()
        if page is not None:
            at.switch_page(f"views/{page}")
            at.run()
        return at

    return _run


def page_text(at: AppTest) -> str:
    """Everything a user reads on the page: markdown, metrics, captions, alerts, tables."""
    parts = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "info", "warning", "error", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    for m in at.metric:
        parts.append(f"{m.label} {m.value} {m.delta or ''}")
    for df in at.dataframe:
        parts.append(df.value.to_csv(index=False))
    return as_read("\n".join(parts))


def as_read(markdown: str) -> str:
    """Markdown source as a reader sees its characters: backslash escapes resolved, word joiners dropped."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")
