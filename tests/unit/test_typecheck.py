"""The type check (mypy, pinned in requirements-dev.txt, set up in pyproject.toml) passes on daivi_data and daivi_ui.

Marked slow (tests/conftest.py): `make test` runs it, `make test-fast` leaves it to `make typecheck`.
"""

from __future__ import annotations

import subprocess
import sys

from daivi_data.settings import PROJECT_ROOT


def test_mypy_finds_no_type_errors():
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "Success: no issues found" in done.stdout
