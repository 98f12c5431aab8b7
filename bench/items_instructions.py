"""CPU instructions the server spends on one `/items?bbox=…&limit=100` GeoJSON page, counted
by valgrind's callgrind (repeatable whatever else the machine is doing, unlike seconds).

    .venv/bin/python bench/items_instructions.py

The application is called in-process as an ASGI app (no HTTP server; 16 requests at a time,
the URLs of bench_features.py) under `valgrind --tool=callgrind`, once with 100 and once with
300 requests after the same warm-up; (instructions(300) - instructions(100)) / 200 is the
cost of a request, start-up and imports cancelled out. PostgreSQL's own work is not counted
(it is another process). Needs the data of bench_features.py (run it once first) and valgrind.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = os.environ.get("SPP_DATA_DIR", "/tmp/bench-features")
PATHS = Path(DATA) / "bench-features-work" / "paths-ours.txt"
WARM, CONCURRENCY = 50, 16


async def serve_in_process(n: int) -> None:
    sys.path.insert(0, str(ROOT))
    from services.app import create_app

    service = create_app()
    paths = PATHS.read_text().split()

    async def call(path: str) -> None:
        p, _, qs = path.partition("?")
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "GET", "scheme": "http", "path": p, "raw_path": p.encode(),
                 "query_string": qs.encode(), "root_path": "", "state": {},
                 "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench")],
                 "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}
        sent = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        await service(scope, receive, send)
        if sent[0]["status"] != 200:
            sys.exit(f"{path}: HTTP {sent[0]['status']}")

    async def worker(k: int) -> None:
        for i in range(k, n, CONCURRENCY):
            await call(paths[i % len(paths)])

    app = getattr(service, "app", service)  # the FastAPI app behind the service
    async with app.router.lifespan_context(app):
        for p in paths[:WARM]:
            await call(p)
        await asyncio.gather(*(worker(k) for k in range(CONCURRENCY)))


def count(n: int, out: Path) -> subprocess.Popen:
    env = {**os.environ, "SPP_DATA_DIR": DATA, "SPP_RATE_IP_PER_S": "0",
           "SPP_RATE_KEY_PER_S": "0"}
    return subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}.cg",
                             sys.executable, __file__, "--inner", str(n)], env=env,
                            stdout=subprocess.DEVNULL, stderr=open(out, "w"))


def main() -> None:
    if sys.argv[1:2] == ["--inner"]:
        import uvloop

        uvloop.run(serve_in_process(int(sys.argv[2])))
        return
    if not PATHS.exists():
        sys.exit(f"{PATHS} is missing: run bench/bench_features.py once first")
    with tempfile.TemporaryDirectory() as tmp:
        logs = {n: Path(tmp) / f"n{n}.log" for n in (100, 300)}
        procs = [count(n, log) for n, log in logs.items()]  # both at once: 2 cores
        if any(p.wait() for p in procs):
            sys.exit("valgrind failed:\n" + "\n".join(x.read_text()[-2000:]
                                                       for x in logs.values()))
        refs = {n: int(re.search(r"I\s+refs:\s+([\d,]+)", log.read_text())[1].replace(",", ""))
                for n, log in logs.items()}
    print(f"instructions per request: {(refs[300] - refs[100]) / 200:,.0f}")


if __name__ == "__main__":
    main()
