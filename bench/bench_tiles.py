"""Vector tile benchmark: our `gis serve` against TiPg on the 300 000-parcel layer, same
database, same tiles, one worker each, in one run.

    .venv/bin/python bench/bench_tiles.py [--tipg /tmp/tipg-venv] [--seconds 20]
                                          [--requests 50000] [--connections 8] [--runs 2]

The sample Shapefile (`gis.sample`, 300 000 Ninh Kiều parcels) is written once to
``$SPP_DATA_DIR/bench-sample-300000`` and loaded with `gis load` (a no-op when that file is
already the current version). TiPg (pip install tipg into its own venv, never the project's)
reads the same ``data.cadastral_parcels`` view with the same attributes (``properties=``), the
same MVT buffer (64) and no feature cap per tile. The load generator is `wrk` on loopback
(fixed connections, a fixed duration, a cap on the number of requests) with
``Accept-Encoding: gzip`` as a browser sends it; both servers compress. Our tile cache is off
(the default), so every request renders from PostGIS, as TiPg's do.

The tile mix: a fixed (seeded) draw of distinct tiles under parcels (every 97th parcel's
point), z14-z17, weighted to what a planner's map requests (more tiles at high zoom).
z12-z13 tiles are reported apart: parcels are drawn from z14 (`tiles.min_zoom`), so our
server answers 204 there by design while TiPg encodes every parcel of the tile; comparing
those would not be like for like.
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
MIX = {14: 2, 15: 3, 16: 5, 17: 6}  # tiles drawn per zoom, relative
LOW_ZOOMS = {12: 1, 13: 2}
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


def tile_mix(points: list[tuple[float, float]], weights: dict[int, int], total: int,
             seed: int = 20260) -> list[tuple[int, int, int]]:
    """A fixed list of distinct (z, x, y) under parcels (where a planner looks), seeded."""
    rng = random.Random(seed)
    out = []
    per = total / sum(weights.values())
    for z, w in weights.items():
        tiles = sorted({(z, t.x, t.y) for t in (TMS.tile(lon, lat, z) for lon, lat in points)})
        rng.shuffle(tiles)
        out += tiles[:max(1, round(per * w))]
    rng.shuffle(out)
    return out


def run_wrk(base: str, paths: list[str], requests: int, connections: int, seconds: int
            ) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        lst = Path(tmp) / "paths.txt"
        lst.write_text("\n".join(paths) + "\n")
        script = Path(tmp) / "mix.lua"
        script.write_text(WRK_SCRIPT)
        # one wrk thread, a fixed duration; the request cap bounds the run (wrk's rate is over
        # the whole duration, so the cap must not be reached)
        cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
               base, "--", str(lst), str(requests)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))
    if total >= requests:
        sys.exit(f"the request cap ({requests}) was reached before {seconds} s: raise --requests")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parcels", type=int, default=300_000)
    ap.add_argument("--tipg", default="/tmp/tipg-venv", help="venv with tipg installed")
    ap.add_argument("--requests", type=int, default=50_000, help="request cap per run")
    ap.add_argument("--seconds", type=int, default=20, help="duration of a run")
    ap.add_argument("--tiles", type=int, default=400, help="distinct tiles in the mix")
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    tipg_bin = Path(args.tipg) / "bin" / "uvicorn"
    if not tipg_bin.exists():
        sys.exit(f"no TiPg at {args.tipg}: python3 -m venv {args.tipg} && "
                 f"{args.tipg}/bin/pip install tipg uvicorn")

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
        row = conn.execute(
            "SELECT n, ST_XMin(e) x0, ST_YMin(e) y0, ST_XMax(e) x1, ST_YMax(e) y1 FROM "
            "(SELECT count(*) AS n, ST_Extent(geom) AS e FROM data.cadastral_parcels) s"
        ).fetchone()
        points = [(r["x"], r["y"]) for r in conn.execute(
            "SELECT ST_X(p) AS x, ST_Y(p) AS y FROM (SELECT ST_PointOnSurface(geom) AS p "
            "FROM data.cadastral_parcels WHERE fid % 97 = 0) s")]
    extent = (row["x0"], row["y0"], row["x1"], row["y1"])
    print(f"{row['n']:,} parcels, extent {', '.join(f'{v:.4f}' for v in extent)}")

    mix = tile_mix(points, MIX, args.tiles)
    low = tile_mix(points, LOW_ZOOMS, 30)
    ours_paths = [f"/ogc/collections/cadastral_parcels/tiles/WebMercatorQuad/{z}/{y}/{x}"
                  for z, x, y in mix]
    tipg_paths = [f"/collections/data.cadastral_parcels/tiles/WebMercatorQuad/{z}/{x}/{y}"
                  f"?properties={FIELDS}" for z, x, y in mix]

    # no rate limit for the load generator's single address (TiPg has none either)
    env = {**os.environ, "DATABASE_URL": url, "SPP_TILE_CACHE": "0", "SPP_RATE_IP_PER_S": "0"}
    p_ours, p_tipg = free_port(), free_port()
    ours = subprocess.Popen([sys.executable, "-m", "gis", "serve", "--host", "127.0.0.1",
                             "--port", str(p_ours)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tipg_env = {**os.environ, "DATABASE_URL": url, "TIPG_DB_SCHEMAS": '["data"]',
                "TIPG_MAX_FEATURES_PER_TILE": "1000000", "TIPG_TILE_BUFFER": "64",
                "TIPG_DB_MIN_CONNECTION_NUMBER": "2", "TIPG_DB_MAX_CONNECTION_NUMBER": "10"}
    tipg = subprocess.Popen([str(tipg_bin), "tipg.main:app", "--host", "127.0.0.1", "--port",
                             str(p_tipg), "--workers", "1", "--log-level", "warning"],
                            cwd="/tmp", env=tipg_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        b_ours, b_tipg = f"http://127.0.0.1:{p_ours}", f"http://127.0.0.1:{p_tipg}"
        wait_http(b_ours + "/ogc", ours, "gis serve")
        wait_http(b_tipg + "/collections/data.cadastral_parcels", tipg, "TiPg")
        n1, s1 = warm(b_ours, ours_paths)
        n2, s2 = warm(b_tipg, tipg_paths)
        print(f"mix: {len(mix)} distinct tiles z14-z17 ({n1} with parcels); raw MVT bytes "
              f"ours {s1 / 2**20:.1f} MiB, TiPg {s2 / 2**20:.1f} MiB", flush=True)
        results: dict[str, list[dict]] = {"ours": [], "tipg": []}
        for run in range(args.runs):
            results["ours"].append(run_wrk(b_ours, ours_paths, args.requests,
                                           args.connections, args.seconds))
            results["tipg"].append(run_wrk(b_tipg, tipg_paths, args.requests,
                                           args.connections, args.seconds))
            print(f"run {run + 1}: ours {results['ours'][-1]['rps']:.0f} req/s, "
                  f"TiPg {results['tipg'][-1]['rps']:.0f} req/s", flush=True)
        best = {k: max(v, key=lambda r: r["rps"]) for k, v in results.items()}
        for k, r in best.items():
            if r["non2xx"]:
                sys.exit(f"{k}: {r['non2xx']} non-2xx responses")
        # the same mix with the tile cache on (every tile already rendered once by warm())
        cache_dir = tempfile.mkdtemp(prefix="spp-bench-tiles-")
        p_cached = free_port()
        cached = subprocess.Popen(
            [sys.executable, "-m", "gis", "serve", "--host", "127.0.0.1", "--port",
             str(p_cached)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**env, "SPP_TILE_CACHE": "1", "SPP_DATA_DIR": cache_dir})
        try:
            b_cached = f"http://127.0.0.1:{p_cached}"
            wait_http(b_cached + "/ogc", cached, "gis serve (cache on)")
            warm(b_cached, ours_paths)
            best["cached"] = run_wrk(b_cached, ours_paths, args.requests, args.connections,
                                     args.seconds)
        finally:
            stop(cached)
            shutil.rmtree(cache_dir, ignore_errors=True)
        low_ours = [f"/ogc/collections/cadastral_parcels/tiles/WebMercatorQuad/{z}/{y}/{x}"
                    for z, x, y in low]
        low_tipg = [f"/collections/data.cadastral_parcels/tiles/WebMercatorQuad/{z}/{x}/{y}"
                    f"?properties={FIELDS}" for z, x, y in low]
        t0 = time.perf_counter()
        warm(b_tipg, low_tipg)
        t_low_tipg = (time.perf_counter() - t0) / len(low)
        t0 = time.perf_counter()
        warm(b_ours, low_ours)
        t_low_ours = (time.perf_counter() - t0) / len(low)
    finally:
        stop(ours)
        stop(tipg)

    print()
    print(f"| z14-z17 mix, {args.connections} connections, best of {args.runs} "
          f"| req/s | p50 | p99 |")
    print("|---|---|---|---|")
    print(f"| ours (gis serve, 1 worker) | {best['ours']['rps']:.0f} | {best['ours']['p50']} "
          f"| {best['ours']['p99']} |")
    print(f"| TiPg (1 worker) | {best['tipg']['rps']:.0f} | {best['tipg']['p50']} "
          f"| {best['tipg']['p99']} |")
    print(f"| ratio ours / TiPg | {best['ours']['rps'] / best['tipg']['rps']:.2f} | | |")
    c = best["cached"]
    print(f"| ours, SPP_TILE_CACHE=1 (tiles on disk) | {c['rps']:.0f} | {c['p50']} "
          f"| {c['p99']} |")
    print(f"| ratio ours with cache / TiPg | {c['rps'] / best['tipg']['rps']:.2f} | | |")
    print(f"z12-z13 ({len(low)} tiles, sequential): ours {t_low_ours * 1000:.1f} ms a tile "
          f"(204, below min_zoom 14), TiPg {t_low_tipg * 1000:.0f} ms a tile")


if __name__ == "__main__":
    main()
