"""Selection export: the features a user picked on the map, by fid, as GeoJSON or CSV.

Only the caller's visible properties are written (``visible_columns``): the same rule as the
OGC API, so a selection export can never carry a personal field for the public.
"""

from __future__ import annotations

import csv
import io

import orjson
from fastapi.responses import Response
from psycopg import sql

from services.access import visible_columns
from services.audit import note_read
from services.ogc.crs import CRS84, SERVED
from services.ogc.errors import InvalidParameter
from services.ogc.geojson import feature_sql, properties_sql
from services.ogc.http import GEOJSON, Ctx, cache_headers, etag_for
from services.planning.common import table

MAX_FIDS = 10_000


def parse_fids(value: str | None) -> list[int]:
    if not value or not value.strip():
        raise InvalidParameter("fids is required: comma-separated feature ids, e.g. fids=1,2,3")
    out = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        # isascii: str.isdigit() also passes '²', which int() refuses
        if (not part.isascii() or not part.lstrip("-").isdigit()
                or not -(2**63) <= int(part) < 2**63):
            raise InvalidParameter(f"fids: {part!r} is not a feature id (an integer)")
        out.append(int(part))
    if len(out) > MAX_FIDS:
        raise InvalidParameter(f"fids: at most {MAX_FIDS} features a request, not {len(out)}")
    return sorted(set(out))


async def export(c: Ctx, layer_id: str | None, fids_text: str | None, fmt: str) -> Response:
    if not layer_id:
        raise InvalidParameter("layer is required: a collection id (see /ogc/collections)")
    layer = c.layer(layer_id)
    fids = parse_fids(fids_text)
    if fmt not in ("geojson", "json", "csv"):
        raise InvalidParameter(f"f={fmt!r}: the selection is exported as geojson or csv")
    cols = visible_columns(c.who, layer)
    note_read(c.who, layer, cols)
    etag = etag_for("export", layer.id, layer.current_version, layer.definition_sha,
                    c.who.cache_scope, fmt, fids)
    headers = cache_headers(c.who, etag)
    name = f"{layer.id}_selection"
    if fmt in ("geojson", "json"):
        stmt = sql.SQL("SELECT coalesce(string_agg({f}, ',' ORDER BY fid), '') AS features, "
                       "count(*) AS n FROM {t} WHERE fid = ANY(%(fids)s)").format(
            f=feature_sql(cols, SERVED[CRS84]), t=table(layer))
        row = await (await c.conn.execute(stmt, {"fids": fids})).fetchone()
        head = orjson.dumps({"type": "FeatureCollection", "name": name,
                             "numberReturned": row["n"]})
        body = head[:-1] + b',"features":[' + row["features"].encode() + b"]}"
        headers["Content-Disposition"] = f'attachment; filename="{name}.geojson"'
        return Response(body, media_type=GEOJSON, headers=headers)
    stmt = sql.SQL("SELECT fid, {p} AS props, ST_X(ST_PointOnSurface(geom)) AS lon, "
                   "ST_Y(ST_PointOnSurface(geom)) AS lat, ST_AsText(geom, 9) AS wkt FROM {t} "
                   "WHERE fid = ANY(%(fids)s) ORDER BY fid").format(
        p=properties_sql(cols), t=table(layer))
    rows = await (await c.conn.execute(stmt, {"fids": fids})).fetchall()
    buf = io.StringIO()
    buf.write("\ufeff")  # UTF-8 BOM: spreadsheet programs then read Vietnamese correctly
    w = csv.writer(buf, lineterminator="\r\n")
    names = [n for n in cols]
    w.writerow(["fid", *names, "lon", "lat", "wkt"])
    for r in rows:
        p = orjson.loads(r["props"])
        w.writerow([r["fid"], *("" if p.get(n) is None else p.get(n) for n in names),
                    f"{r['lon']:.9f}", f"{r['lat']:.9f}", r["wkt"]])
    headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return Response(buf.getvalue().encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers=headers)
