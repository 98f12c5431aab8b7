"""Loader benchmark: `gis load` against `ogr2ogr -f PostgreSQL -t_srs EPSG:4326` on the same
parcel Shapefiles (VN-2000 TM-3 105°00'), same database, in one run:

- rich: the project's sample (TCVN3 text behind a .cpg that says UTF-8, invalid rings,
  duplicate keys, empties, ten columns);
- plain: the sample's valid parcels with five ASCII columns (commune code, sheet, parcel
  number, area, land-use code), unique keys and no .cpg: the delivery on which the fixed
  per-feature work shows most.

    .venv/bin/python bench/bench_loader.py [--parcels 300000] [--runs 2] [--case rich plain]

ogr2ogr runs with PG_USE_COPY and a spatial index, i.e. its fast path, but does none of our
checks (its datum shift is PROJ's default, 0.81 m off; on the rich file its text stays
mojibake). Ours does every check on both files: text detection, geometry repair, EPSG:6960,
plausibility, schema, code lists, areas, stable ids, versioning. Runs alternate between the
tools; peak memory is the child process's maximum RSS.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pyogrio
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from peak_rss import measured, server_cpu  # noqa: E402

from gis import db  # noqa: E402
from gis.demo import ensure_sample  # noqa: E402
from gis.settings import get_settings  # noqa: E402

PLAIN_COLUMNS = ["MaXa", "SoTo", "SoThua", "DienTich", "MucDich"]


def write_plain(rich: Path, plain: Path) -> None:
    """The rich sample made plain: valid geometries only, unique keys, ASCII columns, no .cpg."""
    frame = pyogrio.read_dataframe(rich, columns=PLAIN_COLUMNS, encoding="latin1")
    geoms = frame.geometry.to_numpy()
    ok = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms) & shapely.is_valid(geoms)
    frame = frame[ok].reset_index(drop=True)
    # parcel numbers made unique within each sheet (the sample repeats a few on purpose)
    frame["SoThua"] = (frame.groupby(["MaXa", "SoTo"]).cumcount() + 1).astype(np.int32)
    plain.parent.mkdir(parents=True, exist_ok=True)
    pyogrio.write_dataframe(frame, plain, driver="ESRI Shapefile")
    plain.with_suffix(".cpg").unlink(missing_ok=True)
    shutil.copy(rich.with_suffix(".prj"), plain.with_suffix(".prj"))  # the sample's own .prj


def ogr2ogr(shp: Path, target: str, rich: bool) -> list[str]:
    cmd = ["ogr2ogr", "-f", "PostgreSQL", target, str(shp), "-nln", "bench_ogr2ogr",
           "-overwrite", "-t_srs", "EPSG:4326", "-nlt", "PROMOTE_TO_MULTI",
           "-lco", "GEOMETRY_NAME=geom", "-lco", "SPATIAL_INDEX=GIST",
           "--config", "PG_USE_COPY", "YES"]
    # without this ogr2ogr stops at the first TCVN3 value (the .cpg says UTF-8); with it the
    # text loads as cp1252 mojibake
    return cmd + (["-oo", "ENCODING=CP1252"] if rich else [])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parcels", type=int, default=300_000)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--case", nargs="+", choices=["rich", "plain"], default=["rich", "plain"])
    args = ap.parse_args()

    print(f"sample of {args.parcels:,} parcels (written on the first run) ...", flush=True)
    sample = ensure_sample(get_settings().data_dir / f"bench-sample-{args.parcels}",
                           args.parcels)
    rich = sample / "thua_dat_ninhkieu" / "thua_dat.shp"
    plain = sample / "plain" / "thua_dat_plain.shp"
    if "plain" in args.case and not plain.exists():
        write_plain(rich, plain)
    url = db.database_url()
    db.migrate()
    pg = url.replace("postgresql://", "")
    user_host, dbname = pg.rsplit("/", 1)
    user, hostport = user_host.split("@")
    host, port = hostport.split(":")
    ogr_target = f"PG:host={host} port={port} user={user} dbname={dbname}"

    shps = {"rich": rich, "plain": plain}
    pid_file = db.embedded_cluster().data_dir / "postmaster.pid"
    times: dict[tuple[str, str], list[tuple[float, int, float, float | None]]] = {}

    def run_one(cmd: list[str]) -> tuple[float, int, float, float | None]:
        before = server_cpu(pid_file)
        seconds, rss, cpu = measured(cmd)
        time.sleep(0.5)  # the backend's exit, reaped by the postmaster
        after = server_cpu(pid_file)
        return seconds, rss, cpu, (after - before) if before is not None and after else None

    # runs of one case follow each other: the first replaces whatever version was current
    # (the other case's: every feature changed, ~300 000 updates in the change feed), the
    # next ones a version of the same file (the monthly re-delivery: few changes)
    for case in args.case:
        for run in range(args.runs):
            shp = shps[case]
            ours = run_one([sys.executable, "-m", "gis", "load", str(shp), "--layer",
                            "cadastral_parcels", "--force"])
            theirs = run_one(ogr2ogr(shp, ogr_target, case == "rich"))
            times.setdefault((case, "gis load"), []).append(ours)
            times.setdefault((case, "ogr2ogr"), []).append(theirs)
            print(f"run {run + 1} {case}: gis load {ours[0]:.2f} s, ogr2ogr {theirs[0]:.2f} s",
                  flush=True)
    with db.connect() as conn:
        conn.execute("DROP TABLE IF EXISTS public.bench_ogr2ogr")
    print(f"\nload average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print("CPU s: the tool's own (all threads); server CPU s: the PostgreSQL backends' (a "
          "local cluster only), the lowest of the runs")
    print(f"{'case':6} {'tool':10} {'features':>9} {'MiB':>5} {'best s':>8} {'features/s':>11} "
          f"{'peak RSS MiB':>13} {'CPU s':>7} {'server CPU s':>13}")
    for case in args.case:
        shp = shps[case]
        n = pyogrio.read_info(shp, encoding="latin1")["features"]
        size = sum(p.stat().st_size for p in shp.parent.glob(shp.stem + ".*")) / 2**20
        best = {}
        for tool in ("gis load", "ogr2ogr"):
            runs = times[(case, tool)]
            best[tool] = min(r[0] for r in runs)
            server = [r[3] for r in runs if r[3] is not None]
            print(f"{case:6} {tool:10} {n:9,} {size:5.0f} {best[tool]:8.2f} "
                  f"{n / best[tool]:11,.0f} {max(r[1] for r in runs):13} "
                  f"{min(r[2] for r in runs):7.1f} "
                  f"{f'{min(server):.1f}' if server else '-':>13}")
        print(f"{case:6} throughput ratio gis/ogr2ogr: {best['ogr2ogr'] / best['gis load']:.2f}")

if __name__ == "__main__":
    main()
