"""Downloads of the same query as CSV, GeoPackage or zipped Shapefile, in bounded memory.

Rows come from a server-side cursor in batches; CSV is written as it comes, GeoPackage and
Shapefile are appended batch by batch to a temporary file with pyogrio, which is then streamed
and deleted. Without ``limit`` a download holds every matching feature.

The query runs and its first batch is fetched before the response starts, so whatever the
database refuses (a filter, a cursor) is still a 4xx. A failure after the first byte cannot
change the status any more: the exception then reaches uvicorn, which closes the connection
without the chunked body's last chunk, so the client sees a broken transfer, never a short
file that looks complete.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import shutil
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from fastapi.responses import StreamingResponse
from psycopg import sql

from services.catalog import LayerInfo
from services.ogc.crs import CRS84, ServedCRS
from services.ogc.http import Ctx, cache_headers
from services.ogc.params import ItemsQuery
from services.ogc.query import SQLQuery, page_cte

READY = b""  # yielded once the query has answered; never sent
MEDIA = {"csv": "text/csv; charset=utf-8", "gpkg": "application/geopackage+sqlite3",
         "shp": "application/zip"}


def _statement(s: SQLQuery, q: ItemsQuery, crs: ServedCRS, wkb: bool) -> sql.Composable:
    props = [sql.Identifier(n) for n in s.columns]
    geom = crs.output(sql.SQL("geom"))
    if wkb:
        g = sql.SQL("ST_AsBinary({}) AS geom_wkb").format(geom)
    else:
        g = sql.SQL("ST_AsText({}, {}) AS geom_wkt, ST_X(ST_PointOnSurface({g})) AS x, "
                    "ST_Y(ST_PointOnSurface({g})) AS y").format(geom, sql.Literal(crs.decimals),
                                                                 g=geom)
    return sql.SQL("WITH page AS ({cte}) SELECT fid, {cols} FROM page ORDER BY {o}").format(
        cte=page_cte(s, q.limit_given, q.cursor),
        cols=sql.SQL(", ").join([*props, g]), o=s.order_sql(alias=True))


def _epsg(crs: ServedCRS) -> str:
    return "OGC:CRS84" if crs.uri == CRS84 else "EPSG:" + crs.uri.rsplit("/", 1)[-1]


async def download(c: Ctx, layer: LayerInfo, s: SQLQuery, q: ItemsQuery, fmt: str, etag: str):
    pool = c.request.app.state.pool
    name = f"{layer.id}.{'zip' if fmt == 'shp' else fmt}"
    headers = cache_headers(c.who, etag)
    headers["Content-Disposition"] = f'attachment; filename="{name}"'
    headers["Content-Crs"] = f"<{q.crs.uri}>"
    if fmt == "csv":
        stmt = _statement(s, q, q.crs, wkb=False)
        point = layer.geometry_type == "Point"
        body = await _started(_csv(pool, stmt, s, point, q.crs))
        return StreamingResponse(body, media_type=MEDIA["csv"], headers=headers)
    # GIS files keep x = easting/longitude whatever the EPSG axis order
    crs = dataclasses.replace(q.crs, lat_first=False)
    stmt = _statement(s, q, crs, wkb=True)
    body = await _started(_gis_file(pool, stmt, s, layer, fmt, _epsg(q.crs)))
    return StreamingResponse(body, media_type=MEDIA[fmt], headers=headers)


async def _started(gen):
    """``gen`` run up to its READY (the query answered: errors so far are still a 4xx), as a
    body iterator of the rest."""
    try:
        first = await anext(gen)
    except BaseException:
        await gen.aclose()
        raise
    assert first is READY

    async def rest():
        try:
            # an empty first chunk lets the headers go now: the gzip middleware holds them
            # until the first body message, and a GeoPackage's first bytes come only when the
            # whole file is written (services.limits answers 503 past the time to first byte)
            yield b""
            async for chunk in gen:
                yield chunk
        finally:
            await gen.aclose()

    return rest()


FIRST_BATCH_ROWS = 200  # before the size of a row is known


async def _rows(pool, stmt, params):
    """Batches of rows; the first one is fetched (maybe empty) before anything is sent.

    A batch holds at most ``export_batch_rows`` rows and about ``export_batch_bytes``: each
    batch's row count follows the size of the rows before it, so a layer of wide rows (long
    lines, large texts) is not held 5000 rows at a time."""
    from gis.settings import get_settings

    s = get_settings()
    most, budget = max(1, s.export_batch_rows), max(1, s.export_batch_bytes)
    size = min(most, FIRST_BATCH_ROWS)
    async with pool.connection() as conn:
        async with conn.transaction():
            async with conn.cursor(name="spp_download") as cur:
                await cur.execute(stmt, params)
                batch = await cur.fetchmany(size)
                yield batch
                while batch:
                    size = max(1, min(most, int(budget / max(1, _row_bytes(batch)))))
                    batch = await cur.fetchmany(size)
                    if batch:
                        yield batch


def _row_bytes(batch: list[dict]) -> float:
    """Mean size of a row of ``batch`` (its text and binary values, on up to 32 rows)."""
    sample = batch[::max(1, len(batch) // 32)]
    total = 0
    for row in sample:
        for v in row.values():
            total += len(v) if isinstance(v, (str, bytes, memoryview)) else 16
    return total / len(sample)


async def _csv(pool, stmt, s: SQLQuery, point: bool, crs: ServedCRS):
    buf = io.StringIO()
    w = csv.writer(buf)
    names = list(s.columns)
    if point:
        axes = ("lat", "lon") if crs.lat_first else (("lon", "lat") if crs.geographic
                                                     else ("x", "y"))
        w.writerow(["id", *names, *axes])
    else:
        w.writerow(["id", *names, "wkt"])
    started = False
    async for batch in _rows(pool, stmt, s.params):
        if not started:
            started = True
            yield READY
        for r in batch:
            tail = [r["x"], r["y"]] if point else [r["geom_wkt"]]
            w.writerow([r["fid"], *(r[n] for n in names), *tail])
        yield buf.getvalue().encode()
        buf.seek(0)
        buf.truncate()


def _frame(batch: list[dict], names: list[str], epsg: str) -> gpd.GeoDataFrame:
    df = pd.DataFrame({"id": [r["fid"] for r in batch],
                       **{n: [row[n] for row in batch] for n in names}})
    geoms = shapely.from_wkb([bytes(r["geom_wkb"]) for r in batch])
    return gpd.GeoDataFrame(df, geometry=geoms, crs=epsg)


async def _gis_file(pool, stmt, s: SQLQuery, layer: LayerInfo, fmt: str, epsg: str):
    tmp = Path(tempfile.mkdtemp(prefix="spp-export-"))
    try:
        path = tmp / (f"{layer.id}.gpkg" if fmt == "gpkg" else f"{layer.id}.shp")
        driver = "GPKG" if fmt == "gpkg" else "ESRI Shapefile"
        opts = {"layer": layer.id} if fmt == "gpkg" else {"layer_options": {"ENCODING": "UTF-8"}}
        names = list(s.columns)
        first = True
        async for batch in _rows(pool, stmt, s.params):
            if first:
                yield READY
            if not batch:
                continue
            frame = _frame(batch, names, epsg)
            await asyncio.to_thread(pyogrio.write_dataframe, frame, path, driver=driver,
                                    append=not first, promote_to_multi=True, **opts)
            first = False
        if first:  # no rows: an empty layer with the schema
            empty = gpd.GeoDataFrame({"id": pd.Series(dtype="int64"),
                                      **{n: pd.Series(dtype="object") for n in names}},
                                     geometry=gpd.GeoSeries([], crs=epsg), crs=epsg)
            await asyncio.to_thread(pyogrio.write_dataframe, empty, path, driver=driver,
                                    geometry_type=layer.geometry_type, **opts)
        if fmt == "shp":
            archive = tmp / f"{layer.id}.zip"
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
                for part in sorted(tmp.iterdir()):
                    if part.stem == layer.id and part.suffix != ".zip":
                        z.write(part, part.name)
            path = archive
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                yield chunk
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
