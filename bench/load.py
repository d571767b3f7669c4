"""Throughput of one app process: N concurrent sessions, each a DIFFERENT person, against a real `streamlit run`.

    python -m bench.load --lakehouse /tmp/lh_medium [--sessions 25] [--rounds 2] [--think-s 0] [--json out.json]

Writes a personas file of N demo people (distinct names and e-mails, so
distinct principals and distinct cache entries; their roles cycle through the
roles of config/demo_personas.toml), starts `streamlit run Home.py` on it
(bench/bench_load.py's Server) and has every session open every view its role
may see, `--rounds` times, over Streamlit's websocket protocol
(bench/streamlit_client.py). Prints page runs per second against issue 19's
target (10 per second on 2 cores), p50/p95 per view (first visits, which query
the engine, and revisits, which the per-principal caches serve, apart), the
server's peak RSS and the machine's load. `--json` saves the figures for
`python -m bench.run --load-json`. Not a test: it prints numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench.bench_load import Sample, Server, _p, run_level
from bench.run import RUNS_PER_S_TARGET, machine_line
from bench.streamlit_client import StreamlitSession
from daivi_data.governance import load_policy
from daivi_data.identity import load_personas
from daivi_data.settings import load_settings
from daivi_ui.navigation import HOME

WARM_UP_PERSONA = "benchwarmup"  # opens the workbench once before the timed sessions: the server's engine starts


def write_personas(path: Path, sessions: int) -> tuple[str, ...]:
    """A personas file of `sessions` people whose roles cycle through the demo personas' roles; their keys."""
    roles = [p.role for p in load_personas(load_settings(secrets={}, environ={}).personas_file).values()]
    keys, lines = [], ["# Written by bench/load.py: one demo person per concurrent session.\n",
                       f'[personas.{WARM_UP_PERSONA}]\nname = "Bench Warm-up"\nemail = "warmup@daivi.example"\nrole = "admin"\n']
    for i in range(sessions):
        key, role = f"bench{i:02d}", roles[i % len(roles)]
        keys.append(key)
        lines.append(f'[personas.{key}]\nname = "Bench User {i:02d}"\nemail = "bench{i:02d}@daivi.example"\nrole = "{role}"\n')
    path.write_text("\n".join(lines))
    return tuple(keys)


def restricted_grants() -> int:
    """How many role extracts the demo grants make (one per distinct restricted grant of a table)."""
    policy = load_policy(load_settings(secrets={}, environ={}).grants_file)
    return len({(db, table.name, grant.excluded_columns, grant.row_filter) for role in policy.roles
                for db, table, grant in policy.for_role(role).readable_tables() if not grant.is_full})


def wait_for_role_extracts(server: Server, tmp: Path, expected: int, timeout_s: float = 1800) -> float:
    """Start the server's engine (the warm-up person opens the workbench) and wait until it has built every role
    extract (it queues them all when it starts): the timed sessions then meet the steady state. Seconds waited."""
    started = time.monotonic()
    with StreamlitSession(server.url) as session:
        session.run_page("workbench", f"persona={WARM_UP_PERSONA}")
    while time.monotonic() - started < timeout_s:
        built = [p for p in tmp.glob("daivi-extracts-*/*") if p.is_dir() and "." not in p.name]
        if len(built) >= expected:
            return time.monotonic() - started
        time.sleep(1)
    raise SystemExit(f"the server built {len(built)} of {expected} role extracts in {timeout_s:.0f} s")


def summarise(samples: list[Sample], wall_s: float, server: Server, sessions: int) -> dict:
    by_page: dict[str, dict[str, list[float]]] = defaultdict(lambda: {"first": [], "revisit": []})
    for s in samples:
        by_page[s.run.page or HOME.url_path]["first" if s.cold else "revisit"].append(s.run.seconds * 1e3)
    pages = {}
    for page, runs in by_page.items():
        every = runs["first"] + runs["revisit"]
        pages[page] = {"runs": len(every), "p50_ms": _p(every, 50), "p95_ms": _p(every, 95),
                       "first_p50_ms": _p(runs["first"], 50) if runs["first"] else None,
                       "revisit_p50_ms": _p(runs["revisit"], 50) if runs["revisit"] else None}
    times = [s.run.seconds * 1e3 for s in samples]
    return {"sessions": sessions, "runs": len(samples), "wall_s": wall_s, "runs_per_s": len(samples) / wall_s,
            "p50_ms": _p(times, 50), "p95_ms": _p(times, 95), "errors": sum(len(s.run.exceptions) for s in samples),
            "idle_rss_mb": server.idle_rss_mb, "peak_rss_mb": server.peak_rss_mb, "pages": pages,
            "load_average": os.getloadavg(), "cores": os.cpu_count()}


def print_summary(r: dict) -> None:
    print(f"\n{r['sessions']} sessions (each a different person), {r['runs']} page runs in {r['wall_s']:.1f} s: "
          f"{r['runs_per_s']:.2f} page runs/s (target {RUNS_PER_S_TARGET:g}, ratio {r['runs_per_s'] / RUNS_PER_S_TARGET:.2f}); "
          f"p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms; server RSS idle {r['idle_rss_mb']:.0f} MB, "
          f"peak {r['peak_rss_mb']:.0f} MB; {r['errors']} errors")

    def ms(v: float | None) -> str:
        return f"{v:8.0f}" if v is not None else f"{'-':>8}"

    print(f"\n{'view':16} {'runs':>5} {'p50 ms':>8} {'p95 ms':>8} {'1st p50':>8} {'again p50':>9}")
    for page, p in r["pages"].items():
        print(f"{page:16} {p['runs']:5d} {ms(p['p50_ms'])} {ms(p['p95_ms'])} {ms(p['first_p50_ms'])} {ms(p['revisit_p50_ms']):>9}")
    print("1st = a person's first visit of the view (queries reach the engine); again = a revisit (per-person caches).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lakehouse", type=Path, required=True, help="a built lakehouse (python -m daivi_data.demo)")
    parser.add_argument("--sessions", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=2, help="times each session opens each of its views")
    parser.add_argument("--think-s", type=float, default=0.0, help="mean pause before each page run (0 = none)")
    parser.add_argument("--max-seconds", type=float, default=300, help="stop starting page runs after this long")
    parser.add_argument("--json", type=Path, help="also write the results here (for bench.run --load-json)")
    args = parser.parse_args(argv)
    if not 1 <= args.sessions <= 64:
        parser.error("--sessions must be 1..64")

    with tempfile.TemporaryDirectory(prefix="daivi-bench-load-") as tmp:
        workdir = Path(tmp)
        personas_file = workdir / "personas.toml"
        personas = write_personas(personas_file, args.sessions)
        print(f"lakehouse {args.lakehouse}; {args.sessions} sessions, {args.rounds} rounds, "
              f"{f'think 0..{2 * args.think_s:g} s' if args.think_s else 'no think time'}")
        print(machine_line() + " at start")
        server_tmp = workdir / "tmp"  # the server's temporary files (its role extracts) land here: the bench sees them
        server_tmp.mkdir()
        server = Server(args.lakehouse.resolve(), workdir, {"DAIVI_PERSONAS_FILE": str(personas_file), "TMPDIR": str(server_tmp)})
        try:
            expected = restricted_grants()
            waited = wait_for_role_extracts(server, server_tmp, expected)
            print(f"server ready: {expected} role extracts built in {waited:.0f} s after its first page run (not timed)")
            samples, wall_s = run_level(server, args.sessions, args.rounds, args.think_s, time.monotonic() + args.max_seconds,
                                        personas, personas_file)
        finally:
            server.stop()
    result = summarise(samples, wall_s, server, args.sessions)
    print_summary(result)
    print(machine_line() + " at end")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
