"""A demo lakehouse an older version built is rebuilt on the next run; an imported one is never replaced."""

from __future__ import annotations

import json

import pytest

import daivi_data.demo
from daivi_data.lakehouse.manifest import FORMAT
from tests.app.conftest import page_text


@pytest.fixture
def old_lakehouse(tmp_path, monkeypatch):
    """An empty lakehouse folder whose manifest says an older layout; the app pointed at it; builds recorded."""
    root = tmp_path / "lh"
    root.mkdir()
    monkeypatch.setenv("DAIVI_LAKEHOUSE_PATH", str(root))
    builds: list[str] = []

    def fake_build(out, scale, progress):  # the real build is tested in tests/unit/test_demo_generator.py
        builds.append(scale)
        (out / "manifest.json").write_text(json.dumps({"kind": "demo", "format": FORMAT}))
        progress(1.0, "done")

    monkeypatch.setattr(daivi_data.demo, "build_demo_lakehouse", fake_build)
    return root, builds


@pytest.mark.parametrize(("kind", "rebuilt"), [("demo", True), ("import", False)])
def test_an_outdated_demo_is_rebuilt_and_an_import_is_not(old_lakehouse, run_page, kind, rebuilt):
    root, builds = old_lakehouse
    (root / "manifest.json").write_text(json.dumps({"kind": kind, "format": FORMAT - 1}))
    at = run_page("admin")
    assert builds == (["medium"] if rebuilt else [])  # once: the rebuilt lakehouse is current
    assert "Setting up" not in page_text(at)  # after the rebuild the app reran into the lakehouse
