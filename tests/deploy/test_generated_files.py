"""The committed deployment files are exactly what the code generates, and cfn-lint accepts the template."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from deploy.generate import TEMPLATE_PATH, generated_files, main, stale_files


def test_the_committed_template_and_glue_ddl_are_what_the_code_generates():
    stale = stale_files(generated_files())
    assert not stale, f"regenerate with `python -m deploy.generate`: {[p.name for p in stale]}"


def test_the_check_mode_notices_a_hand_edit(tmp_path, capsys):
    files = generated_files(glue_dir=tmp_path)
    edited = next(p for p in files if p.parent == tmp_path)
    for path, text in files.items():
        if path.parent == tmp_path:
            path.write_text(text)
    edited.write_text(edited.read_text().replace("STORED AS PARQUET", "STORED AS TEXTFILE", 1))
    assert stale_files(files) == [edited]
    assert main(["--check", "--glue-out", str(tmp_path)]) == 1
    assert edited.name in capsys.readouterr().err


def cfn_lint(path: Path) -> subprocess.CompletedProcess:
    # cfn-lint is pinned in requirements-dev.txt; without it the tests fail rather than skip.
    beside_python = Path(sys.executable).with_name("cfn-lint")
    exe = str(beside_python) if beside_python.exists() else shutil.which("cfn-lint")
    assert exe, "cfn-lint is not installed: pip install -r requirements-dev.txt"
    return subprocess.run([exe, "--format", "parseable", str(path)], capture_output=True, text=True, timeout=300)


def test_cfn_lint_passes_on_the_template():
    done = cfn_lint(TEMPLATE_PATH)
    assert done.returncode == 0, done.stdout + done.stderr


def test_cfn_lint_would_catch_a_broken_template(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(TEMPLATE_PATH.read_text().replace("HealthCheckPath:", "HealthCheckPathTypo:"))
    done = cfn_lint(broken)
    assert done.returncode != 0 and "HealthCheckPathTypo" in done.stdout
