"""Loader benchmark: `gis load` against `ogr2ogr -f PostgreSQL -t_srs EPSG:4326` on the same
sample parcel Shapefile (VN-2000 TM-3 105°00', TCVN3 text, invalid rings), same database.

    .venv/bin/python bench/bench_loader.py [--parcels 300000] [--runs 2]

ogr2ogr runs with PG_USE_COPY and a spatial index, i.e. its fast path, but does none of our
checks (its datum shift is PROJ's default, 0.81 m off; its text stays mojibake). Ours does every
check: text detection, geometry repair, EPSG:6960, plausibility, schema, areas, versioning.
Peak memory is the child process's maximum RSS.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gis import db  # noqa: E402
from gis.demo import ensure_sample  # noqa: E402
from gis.settings import get_settings  # noqa: E402


def timed(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one command (its own rusage, via wait4)."""
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            out.seek(0)
            sys.exit(f"{' '.join(cmd[:4])} failed:\n{out.read()[-3000:].decode(errors='replace')}")
    return seconds, usage.ru_maxrss // 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parcels", type=int, default=300_000)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()

    print(f"sample of {args.parcels:,} parcels (written on the first run) ...", flush=True)
    sample = ensure_sample(get_settings().data_dir / f"bench-sample-{args.parcels}",
                           args.parcels)
    shp = sample / "thua_dat_ninhkieu" / "thua_dat.shp"
    url = db.database_url()
    db.migrate()
    size = sum(p.stat().st_size for p in shp.parent.iterdir()) / 2**20
    pg = url.replace("postgresql://", "")
    user_host, dbname = pg.rsplit("/", 1)
    user, hostport = user_host.split("@")
    host, port = hostport.split(":")
    ogr_target = f"PG:host={host} port={port} user={user} dbname={dbname}"

    ours, theirs = [], []
    for run in range(args.runs):
        t, rss = timed([sys.executable, "-m", "gis", "load", str(shp), "--layer",
                        "cadastral_parcels", "--force"])
        ours.append((t, rss))
        t, rss = timed(["ogr2ogr", "-f", "PostgreSQL", ogr_target, str(shp), "-nln",
                        "bench_ogr2ogr", "-overwrite", "-t_srs", "EPSG:4326",
                        "-nlt", "PROMOTE_TO_MULTI", "-lco", "GEOMETRY_NAME=geom",
                        "-lco", "SPATIAL_INDEX=GIST", "--config", "PG_USE_COPY", "YES",
                        # without this ogr2ogr stops at the first TCVN3 value (the .cpg says
                        # UTF-8); with it the text loads as cp1252 mojibake
                        "-oo", "ENCODING=CP1252"])
        theirs.append((t, rss))
        print(f"run {run + 1}: gis load {ours[-1][0]:.2f} s, ogr2ogr {theirs[-1][0]:.2f} s",
              flush=True)
    best_ours, best_theirs = min(o[0] for o in ours), min(t[0] for t in theirs)
    with db.connect() as conn:
        count = conn.execute("SELECT count(*) AS n FROM data.cadastral_parcels").fetchone()["n"]
        conn.execute("DROP TABLE IF EXISTS public.bench_ogr2ogr")
    print(f"\nsource: {shp.name}, {args.parcels:,} parcels, {size:.0f} MiB; loaded {count:,}")
    print(f"{'tool':10} {'best s':>8} {'features/s':>12} {'peak RSS MiB':>13}")
    print(f"{'gis load':10} {best_ours:8.2f} {args.parcels / best_ours:12,.0f} "
          f"{max(o[1] for o in ours):13}")
    print(f"{'ogr2ogr':10} {best_theirs:8.2f} {args.parcels / best_theirs:12,.0f} "
          f"{max(t[1] for t in theirs):13}")
    print(f"throughput ratio gis/ogr2ogr: {best_theirs / best_ours:.2f}")


if __name__ == "__main__":
    main()
