"""How many people does one app process hold? Concurrent browser sessions against a real `streamlit run`.

    python -m bench.bench_load [--scale small] [--levels 1,4,8,16] [--rounds 2] [--think-s 0] [--max-seconds 300]

For each level, starts `streamlit run Home.py` on loopback with fresh caches
(a new task), opens that many sessions at once (demo personas in turn: admin,
finance, ops, teamlead) and has each one open every view its role may see,
`--rounds` times, without think time (the worst case of everyone clicking at
once) or with a random pause of 0..2x`--think-s` before each page (people
reading what they opened). Each session speaks Streamlit's websocket protocol
(bench/streamlit_client.py), so the server does all the work a browser would
cause. Prints page runs per second, p50/p95 per page and the server's peak
RSS, sampled from /proc. Not a test: it prints numbers, it does not pass or fail.

Caches are per principal, and there are four personas: a session whose persona
already opened a page finds the results cached, as a real user does on their
second visit within the TTL. "cold" counts the runs that queried the engine.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bench.streamlit_client import PageRun, StreamlitSession
from daivi_data.governance import load_policy
from daivi_data.identity import load_personas
from daivi_data.settings import PROJECT_ROOT, load_settings
from daivi_ui.navigation import HOME, views_for

PERSONAS = ("admin", "finance", "ops", "teamlead")
SERVER_START_TIMEOUT_S = 60
RSS_SAMPLE_S = 0.2


@dataclass
class Sample:
    persona: str
    run: PageRun
    cold: bool  # the first run of this page for this persona on this server


def pages_for(persona: str, personas_file: Path | None = None) -> list[str]:
    """URL paths of the views a persona's role may open, Home first (the import page is an admin tool: left out)."""
    settings = load_settings(secrets={}, environ={})
    role = load_personas(personas_file or settings.personas_file)[persona].role
    grants = load_policy(settings.grants_file).for_role(role)
    return [HOME.url_path] + [v.url_path for v in views_for(grants) if v.url_path != "import"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Server:
    """`streamlit run Home.py` on a free loopback port, with its peak RSS sampled in the background."""

    def __init__(self, lakehouse: Path, workdir: Path, extra_env: dict[str, str] | None = None):
        self.port = _free_port()
        env = dict(os.environ, DAIVI_LAKEHOUSE_PATH=str(lakehouse), DAIVI_AUDIT_LOG=str(workdir / "audit.jsonl"),
                   DAIVI_SECRETS_FILE=str(workdir / "no-secrets.toml"), DAIVI_ENGINE="duckdb", DAIVI_AUTH_MODE="demo",
                   **(extra_env or {}))
        self.log = (workdir / f"server-{self.port}.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "Home.py"), "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"],
            cwd=PROJECT_ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        self.peak_rss_mb = 0.0
        self._stop = threading.Event()
        self._wait_healthy()
        self.idle_rss_mb = _rss_mb(self.proc.pid)
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"streamlit did not start; see {self.log.name}")

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_rss_mb = max(self.peak_rss_mb, _rss_mb(self.proc.pid))
            time.sleep(RSS_SAMPLE_S)

    def stop(self) -> None:
        self._stop.set()
        self._sampler.join()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def run_level(server: Server, sessions: int, rounds: int, think_s: float, deadline: float,
              personas: tuple[str, ...] = PERSONAS, personas_file: Path | None = None) -> tuple[list[Sample], float]:
    """`sessions` sessions at once, session i as `personas[i % len(personas)]`, each through its persona's pages
    `rounds` times; (samples, wall seconds)."""
    samples: list[Sample] = []
    seen: set[tuple[str, str]] = set()
    lock = threading.Lock()
    start = threading.Barrier(sessions)

    pages = {persona: pages_for(persona, personas_file) for persona in set(personas)}

    def user(index: int) -> None:
        persona = personas[index % len(personas)]
        pause = random.Random(index)  # seeded: the same pauses on every run of the benchmark
        with StreamlitSession(server.url) as session:
            start.wait()
            for _ in range(rounds):
                for page in pages[persona]:
                    time.sleep(pause.uniform(0, 2 * think_s))
                    if time.monotonic() > deadline:
                        return
                    run = session.run_page(page, f"persona={persona}")
                    with lock:
                        cold = (persona, page) not in seen
                        seen.add((persona, page))
                        samples.append(Sample(persona, run, cold))

    threads = [threading.Thread(target=user, args=(i,)) for i in range(sessions)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return samples, time.perf_counter() - began


def _p(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.0f}"


def report_level(sessions: int, samples: list[Sample], wall_s: float, server: Server) -> None:
    times = [s.run.seconds for s in samples]
    warm = [s.run.seconds for s in samples if not s.cold]
    errors = sum(len(s.run.exceptions) for s in samples)
    print(f"{sessions:8d} {len(samples):6d} {wall_s:7.1f} {len(samples) / wall_s:8.2f} {_ms(_p(times, 50))} {_ms(_p(times, 95))} "
          f"{_ms(_p(warm, 95)) if warm else '      -'} {server.idle_rss_mb:8.0f} {server.peak_rss_mb:8.0f} {errors:6d}")


def report_pages(samples: list[Sample]) -> None:
    by_page: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_page[s.run.page or HOME.url_path].append(s)
    print(f"\n{'page':16s} {'runs':>5s} {'cold':>5s} {'p50 ms':>7s} {'p95 ms':>7s} {'max ms':>7s}")
    for page, runs in by_page.items():
        times = [s.run.seconds for s in runs]
        print(f"{page:16s} {len(runs):5d} {sum(s.cold for s in runs):5d} {_ms(_p(times, 50))} {_ms(_p(times, 95))} {_ms(max(times))}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lakehouse", type=Path, help="lakehouse folder (default: a demo lakehouse of --scale, built in a temp folder)")
    parser.add_argument("--scale", default="small", choices=("small", "medium", "large"))
    parser.add_argument("--levels", default="1,4,8,16", help="concurrent sessions per level, comma-separated")
    parser.add_argument("--rounds", type=int, default=2, help="times each session opens each of its pages")
    parser.add_argument("--think-s", type=float, default=0.0, help="mean pause before each page run (0 = none)")
    parser.add_argument("--max-seconds", type=float, default=300, help="stop starting page runs after this long (whole benchmark)")
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.levels.split(",")]
    if max(levels) > 64:
        parser.error("at most 64 sessions per level")

    with tempfile.TemporaryDirectory(prefix="daivi-bench-load-") as tmp:
        workdir = Path(tmp)
        lakehouse = args.lakehouse
        if lakehouse is None:
            from daivi_data.demo import build_demo_lakehouse

            lakehouse = workdir / "lakehouse"
            print(f"building the {args.scale} demo lakehouse ...", flush=True)
            build_demo_lakehouse(lakehouse, scale=args.scale)
        deadline = time.monotonic() + args.max_seconds
        print(f"lakehouse: {lakehouse} ({args.scale}); {args.rounds} rounds; personas {', '.join(PERSONAS)}; "
              f"{f'think 0..{2 * args.think_s:g} s' if args.think_s else 'no think time'}")
        print(f"{'sessions':>8s} {'runs':>6s} {'wall s':>7s} {'runs/s':>8s} {'p50 ms':>7s} {'p95 ms':>7s} {'warm p95':>7s} "
              f"{'idle MB':>8s} {'peak MB':>8s} {'errors':>6s}")
        last: list[Sample] = []
        last_sessions = 0
        for sessions in levels:
            if time.monotonic() > deadline:
                print(f"{sessions:8d}  (skipped: --max-seconds reached)")
                continue
            server = Server(lakehouse, workdir)
            try:
                last, wall_s = run_level(server, sessions, args.rounds, args.think_s, deadline)
            finally:
                server.stop()
            report_level(sessions, last, wall_s, server)
            last_sessions = sessions
        if last:
            print(f"\nper page at {last_sessions} sessions:")
            report_pages(last)
    return 0


if __name__ == "__main__":
    sys.exit(main())
