"""Scale figures for docker/README.md: items and vector-tile req/s of `gis serve` with 1 and 2
workers, and items req/s read from a streaming replica against the primary, in one run.

    .venv/bin/python bench/bench_scale.py [--seconds 15] [--concurrency 16]

Data: the 300 000-parcel table of bench_features.py (same embedded cluster, SPP_DATA_DIR,
default /tmp/bench-features). Items: the same fixed bbox list and query as bench_features.py
(100 features a page, 14 properties, no gzip). Tiles: z14-z16 tiles under the parcels, tile
cache off (every request renders in PostGIS), and once with the cache on after every tile was
requested once. Replica: a hot standby of the cluster made with
pg_basebackup -R (kept in SPP_DATA_DIR/replica), the server reading from it through
SPP_READ_DATABASE_URLS. Load: wrk, one thread. Server, PostgreSQL and wrk share the machine,
so 2 workers measure what one more core of application CPU buys only where cores are free.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_features as bf  # noqa: E402  (sets SPP_DATA_DIR and the cluster first)

from gis import db  # noqa: E402
from gis.embedded import EmbeddedCluster  # noqa: E402
from gis.settings import get_settings  # noqa: E402


def tiles(count: int) -> list[str]:
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT ST_X(c) AS x, ST_Y(c) AS y FROM (SELECT ST_PointOnSurface(geom) AS c, "
            "row_number() OVER (ORDER BY fid) AS r FROM data.cadastral_parcels) t "
            "WHERE r %% 997 = 1 LIMIT %s", (count,)).fetchall()
    out = set()
    for i, r in enumerate(rows):
        z = 14 + i % 3
        n = 2 ** z
        x = int((r["x"] + 180) / 360 * n)
        y = int((1 - math.asinh(math.tan(math.radians(r["y"]))) / math.pi) / 2 * n)
        out.add(f"/ogc/collections/{bf.LAYER}/tiles/WebMercatorQuad/{z}/{y}/{x}")
    return sorted(out)


def replica() -> EmbeddedCluster:
    """A hot standby of the benchmark cluster (made once, started if stopped)."""
    primary = db.embedded_cluster()
    replica = EmbeddedCluster(get_settings().data_dir / "replica")
    if not (replica.data_dir / "PG_VERSION").exists():
        replica.base_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
        replica._owner_fix(replica.base_dir)
        primary._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "spp",
                     "-D", str(replica.data_dir), "-R", "-X", "stream", "-c", "fast")
    if not replica.is_running():
        replica._start()
    return replica


def web_role(url: str) -> str:
    return url.replace("postgresql://spp@", "postgresql://spp_web@", 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=16)
    args = ap.parse_args()
    bf.prepare_data()
    bboxes = bf.make_bboxes(200)
    items = [f"/ogc/collections/{bf.LAYER}/items?bbox={bf.bbox_text(b)}&limit={bf.LIMIT}"
             for b in bboxes]
    tile_paths = tiles(600)
    standby_cluster = replica()
    try:
        run_all(args, items, tile_paths, web_role(standby_cluster.url))
    finally:
        standby_cluster.down()  # leave no PostgreSQL running behind the benchmark


def run_all(args, items: list[str], tile_paths: list[str], standby: str) -> None:
    base_env = {**os.environ, "SPP_RATE_IP_PER_S": "0", "SPP_RATE_KEY_PER_S": "0",
                "SPP_ACCESS_LOG": "false", "SPP_TILE_CACHE": "0"}
    cmd = [sys.executable, "-m", "gis", "serve", "--host", "127.0.0.1", "--port", "{port}"]
    runs = [("items, 1 worker", base_env, [], items),
            ("items, 2 workers", base_env, ["--workers", "2"], items),
            ("tiles, 1 worker", base_env, [], tile_paths),
            ("tiles, 2 workers", base_env, ["--workers", "2"], tile_paths),
            ("tiles, 1 worker, tile cache on", {**base_env, "SPP_TILE_CACHE": "1"}, [],
             tile_paths),
            ("items from the replica, 1 worker",
             {**base_env, "SPP_READ_DATABASE_URLS": standby}, [], items)]
    print(f"machine: {os.cpu_count()} CPU, {platform.python_version()}; {len(items)} bboxes, "
          f"{len(tile_paths)} tiles; {args.seconds} s a run, {args.concurrency} connections",
          flush=True)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, env, extra, paths in runs:
            server = bf.Server(name.replace(" ", "_").replace(",", ""), cmd + extra, env,
                               "", None, "/ogc")
            server.start()
            try:
                if "cache on" in name:  # every tile rendered once, so the run reads the cache
                    for p in paths:
                        bf.httpx.get(server.base + p, timeout=60)
                bf.wrk(server, paths, args.warmup, args.concurrency, Path(tmp))
                r = bf.wrk(server, paths, args.seconds, args.concurrency, Path(tmp))
            finally:
                server.stop()
            results[name] = r
            print(f"{name:34} {r['rps']:8.0f} req/s  p50 {r['p50_us'] / 1000:6.1f} ms  "
                  f"p99 {r['p99_us'] / 1000:6.1f} ms  errors {r['status_errors']}", flush=True)
    for kind in ("items", "tiles"):
        one, two = results[f"{kind}, 1 worker"]["rps"], results[f"{kind}, 2 workers"]["rps"]
        print(f"{kind}: 2 workers / 1 worker = {two / one:.2f}")
    ratio = results["items from the replica, 1 worker"]["rps"] / results["items, 1 worker"]["rps"]
    print(f"items: replica / primary = {ratio:.2f}")


if __name__ == "__main__":
    main()
