"""Where paging a bbox along the curve starts to pay against paging it by id.

For square boxes of growing side centred on the densest parcels, the page statement the server
runs (``services.ogc.items._page_statement``, `limit=100`, the 14 public properties) is timed
both ways on one asyncpg connection with the page connections' settings: along the curve (the
bucket and up to 8 key ranges) and by id (GiST, then the matches sorted). Each box also shows
the matches the version's key sample estimates (``gis.sfc.estimate``), the figure the server
chooses by (``services.ogc.curvesample.CURVE_MIN_MATCHES``).

    SPP_DATA_DIR=/tmp/bench-features .venv/bin/python bench/curve_crossover.py

Uses the cluster and table bench_features.py loads (run it once first).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SPP_DATA_DIR", "/tmp/bench-features")

import asyncpg  # noqa: E402
from psycopg import AsyncConnection  # noqa: E402
from psycopg.rows import dict_row  # noqa: E402
from starlette.datastructures import QueryParams  # noqa: E402

from gis import db, sfc  # noqa: E402
from gis.loader import tables  # noqa: E402
from services.catalog import Catalog  # noqa: E402
from services.ogc import items  # noqa: E402
from services.ogc.curvesample import CURVE_MIN_MATCHES  # noqa: E402
from services.ogc.params import parse_items_query  # noqa: E402

LAYER = "cadastral_parcels"
SIDES_M = (100, 200, 300, 500, 700, 1000, 1400, 2000, 3000)


def centres(count: int) -> list[tuple[float, float]]:
    """Centres of the ``count`` densest 0.005-degree cells (the boxes' worst case)."""
    with db.connect() as conn:
        return [(r["x"], r["y"]) for r in conn.execute(
            "SELECT (floor(ST_X(c) / 0.005) + 0.5) * 0.005 AS x, (floor(ST_Y(c) / 0.005) + 0.5)"
            " * 0.005 AS y FROM (SELECT ST_Centroid(geom) AS c FROM data.cadastral_parcels) t "
            "GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT %s", (count,)).fetchall()]


def box(x: float, y: float, side_m: float) -> tuple[float, ...]:
    dy = side_m / 2 / 111_320.0
    dx = side_m / 2 / (111_320.0 * math.cos(math.radians(y)))
    return tuple(round(v, 6) for v in (x - dx, y - dy, x + dx, y + dy))


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--centres", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args()
    db.migrate()
    async with await AsyncConnection.connect(db.database_url(), autocommit=True,
                                             row_factory=dict_row) as c:
        info = (await Catalog().layers(c))[LAYER]
    with db.connect() as conn:
        table = conn.execute(
            "SELECT v.table_name FROM spp.layers l JOIN spp.layer_versions v ON v.layer_id = "
            "l.id AND v.version = l.current_version WHERE l.id = %s", (LAYER,)
        ).fetchone()["table_name"]
        keys, every = tables.curve_sample(conn, table, tables.table_stats(conn, table)[0])
    visible = {n: col for n, col in info.columns.items() if not col.personal}
    props = ",".join(visible)
    conn = await asyncpg.connect(db.database_url(), server_settings={
        "max_parallel_workers_per_gather": "0"})
    print(f"{LAYER}: {info.feature_count:,} features; sample of {len(keys):,} keys (one in "
          f"{every}); threshold {CURVE_MIN_MATCHES} estimated matches")
    print(f"{'side m':>7} {'matches':>8} {'estimate':>9} {'curve ms':>9} {'by id ms':>9} "
          f"{'id / curve':>10}")
    for side in SIDES_M:
        found, est, t_curve, t_id = [], [], [], []
        for x, y in centres(args.centres):
            b = box(x, y, side)
            text_q = f"bbox={','.join(map(str, b))}&limit=100&properties={props}"
            statements = {}
            for curve in (True, False):
                q = parse_items_query(QueryParams(text_q), visible, has_time=False,
                                      layer_id=LAYER, curve=curve)
                statements[curve] = items._page_statement(info, visible, q)
            found.append(await conn.fetchval(
                "SELECT count(*) FROM data.cadastral_parcels WHERE "
                "ST_Intersects(geom, ST_MakeEnvelope($1, $2, $3, $4, 4326))", *b))
            est.append(sfc.estimate(keys, every, sfc.coarse_ranges(b, info.sfc_pad)))
            times = {True: [], False: []}
            for i in range(args.repeats + 3):
                for curve, (text, values) in statements.items():
                    t0 = time.perf_counter()
                    await conn.fetchrow(text, *values)
                    if i >= 3:  # the first runs plan and warm the cache
                        times[curve].append(time.perf_counter() - t0)
            t_curve.append(statistics.median(times[True]))
            t_id.append(statistics.median(times[False]))
        mc, mi = statistics.median(t_curve) * 1e3, statistics.median(t_id) * 1e3
        print(f"{side:>7} {statistics.median(found):>8.0f} {statistics.median(est):>9.0f} "
              f"{mc:>9.2f} {mi:>9.2f} {mi / mc:>10.2f}", flush=True)
    await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
