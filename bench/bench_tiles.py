"""Vector tile benchmark: our `gis serve` against TiPg on the 300 000-parcel layer, zoom by
zoom (z12-z17), same database, one worker each, in one run.

    .venv/bin/python bench/bench_tiles.py [--tipg /tmp/tipg-venv] [--seconds 8] [--runs 2]
                                          [--tiles 60] [--connections 8] [--zooms 12-17]

The sample Shapefile (`gis.sample`, 300 000 Ninh Kiều parcels) is written once to
``$SPP_DATA_DIR/bench-sample-300000`` and loaded with `gis load` (a no-op when that file is
already the current version). TiPg (pip install tipg into its own venv, never the project's)
reads the same ``data.cadastral_parcels`` view with the same attributes (``properties=``), the
same MVT buffer (64), the same connection pool (2..10, ``DB_MIN_CONN_SIZE`` /
``DB_MAX_CONN_SIZE``) and no feature cap per tile. The load generator is `wrk` on loopback
(fixed connections, a fixed duration) with ``Accept-Encoding: gzip`` as a browser sends it;
both servers compress. Our tile cache is off except in the row that says so.

Three servers answer the same tiles, interleaved zoom by zoom:
- ours as deployed: it reads the Web Mercator copy each version table stores (``geom_3857``),
  so it does not transform features per tile (a design advantage, not the same work);
- ours on the transforming path (``SPP_TILE_STORED_MERCATOR=0``: ``ST_Transform(geom, 3857)``
  per feature, as TiPg does);
- TiPg 1.6.1.
Then ours with ``SPP_TILE_CACHE=1`` (each tile rendered once, then read from disk).

Tiles: per zoom a fixed (seeded) draw of up to ``--tiles`` distinct tiles under parcels (every
97th parcel's point). Below the layer's ``tiles.full_zoom`` our tiles are an overview (features
under ``tiles.min_size`` pixels left out, at most ``tiles.max_features`` a tile, the largest):
the bytes per tile are printed beside the rates, so the difference in work shows.
"""

from __future__ import annotations

import argparse
import os
import random
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
sys.path.insert(0, str(ROOT))

import morecantile  # noqa: E402

from gis import db  # noqa: E402
from gis.demo import ensure_sample  # noqa: E402
from gis.settings import get_settings  # noqa: E402

TMS = morecantile.tms.get("WebMercatorQuad")
FIELDS = "commune_code,sheet_no,parcel_no,land_use_code"
WRK_SCRIPT = """
local paths = {}
local sent, done, limit = 0, 0, 0
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  limit = tonumber(args[2])
end
request = function()
  sent = sent + 1
  return wrk.format("GET", paths[(sent - 1) % #paths + 1], {["Accept-Encoding"] = "gzip"})
end
response = function(status, headers, body)
  done = done + 1
  if done >= limit then wrk.thread:stop() end
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{what} exited ({proc.returncode})")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    sys.exit(f"{what} did not answer at {url}")


def zoom_tiles(points: list[tuple[float, float]], z: int, count: int, seed: int = 20260
               ) -> list[tuple[int, int, int]]:
    """A fixed list of up to ``count`` distinct (z, x, y) under parcels (where a planner
    looks), seeded."""
    tiles = sorted({(z, t.x, t.y) for t in (TMS.tile(lon, lat, z) for lon, lat in points)})
    random.Random(seed + z).shuffle(tiles)
    return tiles[:count]


def run_wrk(base: str, paths: list[str], requests: int, connections: int, seconds: int
            ) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        lst = Path(tmp) / "paths.txt"
        lst.write_text("\n".join(paths) + "\n")
        script = Path(tmp) / "mix.lua"
        script.write_text(WRK_SCRIPT)
        # one wrk thread, a fixed duration; the request cap bounds the run (wrk's rate is over
        # the whole duration, so the cap must not be reached)
        cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "60s",
               "--latency", "-s", str(script), base, "--", str(lst), str(requests)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))
    if total >= requests:
        sys.exit(f"the request cap ({requests}) was reached before {seconds} s: raise --requests")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if re.search(r"Socket errors: .*timeout [1-9]", out):
        sys.exit(f"{base}: requests timed out:\n{out}")
    p50 = re.search(r"50%\s+([\d.]+\w+)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    return {"rps": rps, "requests": total, "non2xx": int(bad.group(1)) if bad else 0,
            "p50": p50.group(1) if p50 else "?", "p99": p99.group(1) if p99 else "?"}


def warm(base: str, paths: list[str]) -> tuple[int, int]:
    """Every tile once (PostgreSQL buffers, both servers alike); (tiles with data, bytes)."""
    n = size = 0
    with httpx.Client(base_url=base, timeout=120) as c:
        for p in paths:
            r = c.get(p, headers={"Accept-Encoding": "identity"})
            if r.status_code not in (200, 204):
                sys.exit(f"{base}{p}: {r.status_code} {r.text[:300]}")
            n += r.status_code == 200
            size += len(r.content)
    return n, size


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


SERVERS = ("ours", "ours_transform", "tipg")
LABELS = {"ours": "ours (stored geom_3857)", "ours_transform": "ours, transforming",
          "tipg": "TiPg 1.6.1", "cached": "ours, SPP_TILE_CACHE=1"}


def serve_ours(env: dict, port: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gis", "serve", "--host", "127.0.0.1",
                             "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


TARGET = 1.5  # ours / TiPg at every zoom, cache off (issue 16 item 3)


def ours_path(z: int, x: int, y: int) -> str:
    return f"/ogc/collections/cadastral_parcels/tiles/WebMercatorQuad/{z}/{y}/{x}"


def tipg_path(z: int, x: int, y: int) -> str:
    return (f"/collections/data.cadastral_parcels/tiles/WebMercatorQuad/{z}/{x}/{y}"
            f"?properties={FIELDS}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parcels", type=int, default=300_000)
    ap.add_argument("--tipg", default="/tmp/tipg-venv", help="venv with tipg installed")
    ap.add_argument("--requests", type=int, default=1_000_000, help="request cap per run")
    ap.add_argument("--seconds", type=int, default=8, help="duration of a run (a zoom, a server)")
    ap.add_argument("--tiles", type=int, default=60, help="distinct tiles per zoom (at most)")
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--zooms", default="12-17")
    args = ap.parse_args()
    z0, _, z1 = args.zooms.partition("-")
    zooms = list(range(int(z0), int(z1 or z0) + 1))
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    tipg_bin = Path(args.tipg) / "bin" / "uvicorn"
    if not tipg_bin.exists():
        sys.exit(f"no TiPg at {args.tipg}: python3 -m venv {args.tipg} && "
                 f"{args.tipg}/bin/pip install tipg==1.6.1 uvicorn")

    print(f"sample of {args.parcels:,} parcels (written on the first run) ...", flush=True)
    sample = ensure_sample(get_settings().data_dir / f"bench-sample-{args.parcels}",
                           args.parcels)
    shp = sample / "thua_dat_ninhkieu" / "thua_dat.shp"
    url = db.database_url()
    db.migrate()
    print("gis load (a no-op when this file is already current) ...", flush=True)
    subprocess.run([sys.executable, "-m", "gis", "load", str(shp), "--layer",
                    "cadastral_parcels"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    with db.connect() as conn:
        n = conn.execute("SELECT count(*) AS n FROM data.cadastral_parcels").fetchone()["n"]
        points = [(r["x"], r["y"]) for r in conn.execute(
            "SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_PointOnSurface(geom) AS p "
            "FROM data.cadastral_parcels WHERE fid % 97 = 0) s")]
    print(f"{n:,} parcels; load average before the run {os.getloadavg()[0]:.2f}", flush=True)
    tiles = {z: zoom_tiles(points, z, args.tiles) for z in zooms}
    paths = {"ours": {z: [ours_path(*t) for t in ts] for z, ts in tiles.items()},
             "tipg": {z: [tipg_path(*t) for t in ts] for z, ts in tiles.items()}}
    paths["ours_transform"] = paths["cached"] = paths["ours"]

    # no rate limit for the load generator's single address (TiPg has none)
    env = {**os.environ, "DATABASE_URL": url, "SPP_TILE_CACHE": "0", "SPP_RATE_IP_PER_S": "0"}
    tipg_env = {**os.environ, "DATABASE_URL": url, "TIPG_DB_SCHEMAS": '["data"]',
                "TIPG_MAX_FEATURES_PER_TILE": "1000000", "TIPG_TILE_BUFFER": "64",
                "DB_MIN_CONN_SIZE": "2", "DB_MAX_CONN_SIZE": "10"}
    cache_dir = tempfile.mkdtemp(prefix="spp-bench-tiles-")
    ports = {k: free_port() for k in (*SERVERS, "cached")}
    procs = {
        "ours": serve_ours(env, ports["ours"]),
        "ours_transform": serve_ours({**env, "SPP_TILE_STORED_MERCATOR": "0"},
                                    ports["ours_transform"]),
        "cached": serve_ours({**env, "SPP_TILE_CACHE": "1", "SPP_DATA_DIR": cache_dir},
                             ports["cached"]),
        "tipg": subprocess.Popen(
            [str(tipg_bin), "tipg.main:app", "--host", "127.0.0.1", "--port",
             str(ports["tipg"]), "--workers", "1", "--log-level", "warning"],
            cwd="/tmp", env=tipg_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)}
    base = {k: f"http://127.0.0.1:{p}" for k, p in ports.items()}
    rates: dict[tuple[str, int], list[dict]] = {}
    sizes: dict[tuple[str, int], tuple[int, int]] = {}
    loads = []
    try:
        for k, proc in procs.items():
            probe = "/collections/data.cadastral_parcels" if k == "tipg" else "/ogc"
            wait_http(base[k] + probe, proc, k)
        for z in zooms:  # every tile once: warm PostgreSQL buffers; the cache gets its tiles
            for k in (*SERVERS, "cached"):
                sizes[k, z] = warm(base[k], paths[k][z])
        for run in range(args.runs):
            for z in zooms:
                order = SERVERS if run % 2 == 0 else SERVERS[::-1]
                for k in (*order, "cached"):
                    rates.setdefault((k, z), []).append(run_wrk(
                        base[k], paths[k][z], args.requests, args.connections, args.seconds))
                loads.append(os.getloadavg()[0])
                print(f"run {run + 1} z{z}: " + ", ".join(
                    f"{k} {rates[k, z][-1]['rps']:.0f}" for k in (*SERVERS, "cached")) + " req/s",
                    flush=True)
    finally:
        for proc in procs.values():
            stop(proc)
        shutil.rmtree(cache_dir, ignore_errors=True)

    best = {key: max(v, key=lambda r: r["rps"]) for key, v in rates.items()}
    for (k, z), r in best.items():
        if r["non2xx"]:
            sys.exit(f"{k} z{z}: {r['non2xx']} non-2xx responses")
    print()
    print(f"{args.connections} connections, {args.seconds} s a run, best of {args.runs}; "
          f"load average during the runs {min(loads):.1f}-{max(loads):.1f}")
    print()
    print("| zoom | tiles | ours req/s | ours transforming | TiPg req/s | ours / TiPg "
          "| transforming / TiPg | ours p50 / TiPg p50 | raw KiB a tile ours / TiPg "
          "| cache on req/s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for z in zooms:
        o, t, g, c = (best[k, z] for k in ("ours", "ours_transform", "tipg", "cached"))
        (_, s1), (_, s2) = sizes["ours", z], sizes["tipg", z]
        m = len(paths["ours"][z])
        print(f"| {z} | {m} | {o['rps']:.0f} | {t['rps']:.0f} | {g['rps']:.1f} "
              f"| **{o['rps'] / g['rps']:.2f}** | {t['rps'] / g['rps']:.2f} "
              f"| {o['p50']} / {g['p50']} | {s1 / m / 1024:.0f} / {s2 / m / 1024:.0f} "
              f"| {c['rps']:.0f} |")
    low = [f"z{z} {best['ours', z]['rps'] / best['tipg', z]['rps']:.2f}" for z in zooms
           if best["ours", z]["rps"] < TARGET * best["tipg", z]["rps"]]
    print(f"\nours / TiPg at every zoom (target >= {TARGET}): "
          + (f"MISSED at {', '.join(low)}" if low else "met"))


if __name__ == "__main__":
    main()
