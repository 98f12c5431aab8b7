"""Overview tiles with and without their partial indexes (gis.overview), in one run.

    .venv/bin/python bench/bench_overview_tiles.py [--layer cadastral_parcels] [--rounds 7]

On the layer as loaded (its current version), for the densest tile of each overview zoom
(most features whose centre falls in it): the SQL time of the tile statement as served
(``services.tiles.mvt.tile_query``), median of ``--rounds``, alternately with the version
table's partial indexes and without them (dropped inside a transaction that is rolled back,
so the table is left as it was: the statement is then what a version loaded before these
indexes runs). Also the rows the index scans returned (EXPLAIN ANALYZE) and whether both
ways give the same bytes. Runs against ``DATABASE_URL`` or the embedded cluster of
``$SPP_DATA_DIR``; the PostgreSQL buffers are warmed by a first run of each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gis import db  # noqa: E402
from gis.overview import WORLD_M  # noqa: E402
from services.access import PUBLIC  # noqa: E402
from services.catalog import Catalog  # noqa: E402
from services.tiles import mvt  # noqa: E402


def densest_tile(conn, table: str, z: int) -> tuple[int, int, int, int]:
    """(x, y, features) of the tile of zoom z holding most feature centres."""
    side = WORLD_M / (1 << z)
    r = conn.execute(sql.SQL(
        "SELECT floor((ST_X(c) + %(h)s) / %(s)s)::int AS x, floor((%(h)s - ST_Y(c)) / %(s)s)::int "
        "AS y, count(*) AS n FROM (SELECT ST_Centroid(Box2D(geom_3857)::geometry) AS c "
        "FROM data.{}) s GROUP BY 1, 2 ORDER BY n DESC LIMIT 1").format(sql.Identifier(table)),
        {"h": WORLD_M / 2, "s": side}).fetchone()
    return r["x"], r["y"], r["n"]


def index_rows(plan: dict) -> list[tuple[str, int]]:
    found = [(plan["Index Name"], plan["Actual Rows"])] if "Index Name" in plan else []
    for sub in plan.get("Plans", []):
        found += index_rows(sub)
    return found


def timed(conn, query, args) -> tuple[float, bytes]:
    t0 = time.perf_counter()
    data = conn.execute(query, args).fetchone()["mvt"]
    return (time.perf_counter() - t0) * 1000, bytes(data)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--layer", default="cadastral_parcels")
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    url = db.database_url()

    async def catalog():
        async with await psycopg.AsyncConnection.connect(url, row_factory=dict_row) as c:
            return await Catalog().layers(c)

    layer = asyncio.run(catalog())[args.layer]
    opts = layer.definition.tiles
    table = f"{layer.id}__v{layer.current_version}"
    tl = [mvt.tile_layer(PUBLIC, layer)]
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        partial = [r["indexname"] for r in conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'data' AND tablename = %s "
            "AND indexdef LIKE '%%WHERE%%'", (table,))]
        total = conn.execute(sql.SQL("SELECT count(*) AS n FROM data.{}").format(
            sql.Identifier(table))).fetchone()["n"]
        print(f"{layer.id} v{layer.current_version}: {total:,} features, partial indexes "
              f"{partial or 'none'}; load average {os.getloadavg()[0]:.2f}")
        if not partial:
            sys.exit("no partial index on this version (loaded before them?): load it again")
        for z in range(opts.min_zoom, opts.full_zoom or opts.min_zoom):
            x, y, n = densest_tile(conn, table, z)
            targs = {"z": z, "x": x, "y": y}
            query = mvt.tile_query(tl, z)
            explain = sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) {}").format(query)
            res: dict[str, list[float]] = {"with": [], "without": []}
            reads, out = {}, {}
            for rnd in range(args.rounds + 1):  # round 0 warms the buffers
                for way in ("with", "without") if rnd % 2 else ("without", "with"):
                    with conn.transaction(force_rollback=True):
                        if way == "without":
                            for name in partial:
                                conn.execute(sql.SQL("DROP INDEX data.{}").format(
                                    sql.Identifier(name)))
                        ms, data = timed(conn, query, targs)
                        if rnd == 0:
                            plan = conn.execute(explain, targs).fetchone()["QUERY PLAN"]
                            reads[way] = index_rows(plan[0]["Plan"])
                            out[way] = data
                        else:
                            res[way].append(ms)
            w, wo = statistics.median(res["with"]), statistics.median(res["without"])
            print(f"z{z} tile {x}/{y} ({n:,} feature centres): with {w:.1f} ms, without "
                  f"{wo:.1f} ms, without / with {wo / w:.2f}x; index rows with "
                  f"{reads['with']}, without {reads['without']}; {len(out['with']):,} bytes, "
                  f"same bytes: {out['with'] == out['without']}; load average "
                  f"{os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
