"""Time `gis demo` from an empty data dir to "serving", phase by phase, then a second start.

    .venv/bin/python bench/bench_demo.py [--parcels 3000] [--keep DIR] [--checkout DIR]

Runs `gis demo --port <free port>` with a fresh ``SPP_DATA_DIR`` (a temporary folder unless
``--keep``), stamps each line it prints (database up and migrated, sample written, one line a
load, the serving line), then waits until ``/health`` answers. The server is stopped with
SIGTERM, the embedded cluster with `gis db down` (and the postmaster with SIGINT if it is still
there), so nothing is left running. The second run starts on the same data dir: the cluster
only starts, the sample is not written again and every file is found unchanged.
``--checkout /work/main`` times another checkout's code (its `python -m gis`), for a before
and after on one machine.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
GIS = [sys.executable, "-m", "gis"]  # the code of the checkout it runs in (cwd)
LOAD_LINE = re.compile(r"^\s+(\S+)\s+→\s+(\S+)\s+(\S+)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_demo(data_dir: Path, parcels: int, checkout: Path) -> list[tuple[str, float]]:
    """(phase, seconds since start) for each phase of one `gis demo`, server stopped after."""
    port = _free_port()
    env = {**os.environ, "SPP_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1",
           "COLUMNS": "200", "TERM": "dumb"}
    env.pop("DATABASE_URL", None)
    t0 = time.perf_counter()
    proc = subprocess.Popen([*GIS, "demo", "--parcels", str(parcels), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, cwd=checkout)
    phases: list[tuple[str, float]] = []
    try:
        for line in proc.stdout:
            now = time.perf_counter() - t0
            if line.startswith("Database:"):
                phases.append(("cluster up, migrated", now))
            elif line.startswith("Sample delivery set:"):
                phases.append(("sample written", now))
            elif m := LOAD_LINE.match(line):
                phases.append((f"  {m[2]} ({m[3]})", now))
            elif line.startswith("Web map"):
                phases.append(("serving line", now))
                break
            elif line.strip():
                print("  |", line.rstrip())
        else:
            raise SystemExit(f"gis demo ended (exit {proc.wait()}) before serving")
        while True:  # the serving line comes before uvicorn binds: wait for an answer
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise SystemExit(f"gis demo ended (exit {proc.returncode}) before answering")
            time.sleep(0.1)
        phases.append(("/health answers", time.perf_counter() - t0))
    finally:
        stop(proc, data_dir, env, checkout)
    return phases


def stop(proc: subprocess.Popen, data_dir: Path, env: dict, checkout: Path) -> None:
    if proc.poll() is None:  # SIGTERM: SIGINT is ignored by a job started in the background
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    stop_cluster(data_dir, env, checkout)


def stop_cluster(data_dir: Path, env: dict, checkout: Path) -> None:
    """`gis db down`; if the postmaster is still there, SIGINT to it (fast shutdown)."""
    subprocess.run([*GIS, "db", "down"], env=env, cwd=checkout, capture_output=True)
    pidfile = data_dir / "pg" / "data" / "postmaster.pid"
    if pidfile.exists():
        pid = int(pidfile.read_text().split()[0])
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            return
        for _ in range(300):
            if not pidfile.exists():
                break
            time.sleep(0.1)


def print_table(title: str, phases: list[tuple[str, float]]) -> None:
    print(f"\n{title}")
    print(f"{'phase':48} {'at (s)':>8} {'took (s)':>9}")
    before = 0.0
    for name, at in phases:
        print(f"{name:48} {at:8.1f} {at - before:9.1f}")
        before = at


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parcels", type=int, default=3000)
    ap.add_argument("--keep", type=Path, help="data dir to use and keep (default: temporary)")
    ap.add_argument("--checkout", type=Path, default=ROOT, help="the code to time")
    args = ap.parse_args()
    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="bench-demo-"))
    if data_dir.exists() and any(data_dir.iterdir()):
        raise SystemExit(f"{data_dir} is not empty: the first run needs a fresh data dir")
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o755)  # as root the cluster runs as postgres, which must reach it
    print(f"load average before: {os.getloadavg()[0]:.2f}; data dir {data_dir}; code "
          f"{args.checkout}", flush=True)
    try:
        first = run_demo(data_dir, args.parcels, args.checkout)
        print_table("first run (fresh data dir)", first)
        second = run_demo(data_dir, args.parcels, args.checkout)
        print_table("second run (same data dir, nothing reloaded)", second)
        print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:  # whatever happened (an interrupt, a failed run): no cluster left running
        stop_cluster(data_dir, {**os.environ, "SPP_DATA_DIR": str(data_dir)}, args.checkout)
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
