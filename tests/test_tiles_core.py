"""OGC API - Tiles against a real `gis serve` and real loaded layers: tile matrix sets,
tilesets, TileJSON, MVT content checked against the database (features, attributes, where the
geometry lands), zoom limits, empty tiles, invalid tile coordinates, ETag/304, the tile cache
and a new layer version."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time

import httpx
import mapbox_vector_tile
import morecantile
import psycopg
import pytest
import shapely
from psycopg import sql
from psycopg.rows import dict_row

from gis.layerdef import get_layer_def
from services.access import PUBLIC
from tests.conftest import web_role_url
from tests.tiles_fixtures import ROAD_CLASSES, load_roads

pytest_plugins = ["tests.tiles_fixtures"]

TMS = morecantile.tms.get("WebMercatorQuad")
MVT = "application/vnd.mapbox-vector-tile"
PARCEL_FIELDS = {"commune_code", "sheet_no", "parcel_no", "land_use_code"}


def tile_path(layer: str | None, z: int, y: int, x: int) -> str:
    if layer is None:
        return f"/tiles/WebMercatorQuad/{z}/{y}/{x}"
    return f"/collections/{layer}/tiles/WebMercatorQuad/{z}/{y}/{x}"


def decode(content: bytes) -> dict:
    return mapbox_vector_tile.decode(content, default_options={"y_coord_down": True})


def tile_to_lonlat(tile: morecantile.Tile, px: float, py: float) -> tuple[float, float]:
    b = TMS.xy_bounds(tile)
    mx = b.left + px / 4096 * (b.right - b.left)
    my = b.top - py / 4096 * (b.top - b.bottom)
    ll = TMS.lnglat(mx, my)
    return ll.x, ll.y


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (a[0] - b[0]) * 111_320 * math.cos(math.radians(a[1]))
    dy = (a[1] - b[1]) * 110_574
    return math.hypot(dx, dy)


def parcel(conn, offset: int = 1234) -> dict:
    return conn.execute(
        "SELECT fid, commune_code, sheet_no, parcel_no, land_use_code, "
        "ST_X(ST_Centroid(geom)) AS lon, ST_Y(ST_Centroid(geom)) AS lat, "
        "ST_AsText(geom) AS wkt FROM data.cadastral_parcels ORDER BY fid OFFSET %s LIMIT 1",
        (offset,)).fetchone()


# -- tile matrix sets and tilesets ------------------------------------------------------------
def test_tile_matrix_sets(tiles):
    doc = tiles.get("/tileMatrixSets").json()
    assert [t["id"] for t in doc["tileMatrixSets"]] == ["WebMercatorQuad"]
    href = doc["tileMatrixSets"][0]["links"][0]["href"]
    assert href.startswith("http://") and href.endswith("/ogc/tileMatrixSets/WebMercatorQuad")
    tms = httpx.get(href).json()
    assert tms["id"] == "WebMercatorQuad" and tms["crs"].endswith("EPSG/0/3857")
    m0 = tms["tileMatrices"][0]
    assert (m0["matrixWidth"], m0["matrixHeight"], m0["tileWidth"]) == (1, 1, 256)
    assert len(tms["tileMatrices"]) == 25
    assert tiles.get("/tileMatrixSets/WorldCRS84Quad").status_code == 404


def test_collection_tilesets_and_metadata(tiles):
    doc = tiles.get("/collections/cadastral_parcels/tiles").json()
    (ts,) = doc["tilesets"]
    assert ts["dataType"] == "vector" and ts["tileMatrixSetURI"].endswith("WebMercatorQuad")
    meta_href = next(lk["href"] for lk in ts["links"] if lk["rel"] == "self")
    meta = httpx.get(meta_href).json()
    (layer,) = meta["layers"]
    assert layer["id"] == "cadastral_parcels" and layer["minTileMatrix"] == "12"
    assert set(layer["propertiesSchema"]["properties"]) == PARCEL_FIELDS | {"fid"}
    limits = {lim["tileMatrix"]: lim for lim in meta["tileMatrixSetLimits"]}
    assert min(map(int, limits)) == 12 and max(map(int, limits)) == 22
    item = next(lk for lk in meta["links"] if lk["rel"] == "item")
    assert item["type"] == MVT and item["href"].endswith("/{tileMatrix}/{tileRow}/{tileCol}")
    assert item["href"].startswith("http://")
    # the limits hold the parcels: their middle tile at z16 is inside them
    bb = meta["boundingBox"]
    mid = TMS.tile((bb["lowerLeft"][0] + bb["upperRight"][0]) / 2,
                   (bb["lowerLeft"][1] + bb["upperRight"][1]) / 2, 16)
    lim = limits["16"]
    assert lim["minTileCol"] <= mid.x <= lim["maxTileCol"]
    assert lim["minTileRow"] <= mid.y <= lim["maxTileRow"]


def test_tilejson_is_valid_and_usable(tiles):
    tj = tiles.get("/collections/cadastral_parcels/tiles/WebMercatorQuad",
                   params={"f": "tilejson"}).json()
    assert tj["tilejson"] == "3.0.0" and tj["scheme"] == "xyz"
    template, xyz = tj["tiles"]  # alternates: the OGC order, and XYZ named .pbf (GDAL)
    assert template.startswith("http://127.0.0.1:") and template.endswith("/{z}/{y}/{x}")
    assert xyz == template.removesuffix("/{z}/{y}/{x}") + "/xyz/{z}/{x}/{y}.pbf"
    assert (tj["minzoom"], tj["maxzoom"]) == (12, 22)
    w, s, e, n = tj["bounds"]
    assert 105.7 < w < e < 105.9 and 10.0 < s < n < 10.1
    (vl,) = tj["vector_layers"]
    assert vl["id"] == "cadastral_parcels" and set(vl["fields"]) == PARCEL_FIELDS
    assert (vl["minzoom"], vl["maxzoom"]) == (12, 22)
    t = TMS.tile(tj["center"][0], tj["center"][1], 16)
    r = httpx.get(template.format(z=16, y=t.y, x=t.x))
    assert r.status_code == 200 and r.headers["content-type"] == MVT
    assert decode(r.content)["cadastral_parcels"]["features"]
    assert httpx.get(xyz.format(z=16, y=t.y, x=t.x)).content == r.content
    # the multi-layer TileJSON: every visible loaded layer, zooms spanning them all
    tj = tiles.get("/tiles/WebMercatorQuad", params={"f": "tilejson"}).json()
    ids = {v["id"] for v in tj["vector_layers"]}
    assert {"cadastral_parcels", "fire_hydrants", "roads"} <= ids
    assert "water_pipes" not in ids
    assert tj["minzoom"] == min(v["minzoom"] for v in tj["vector_layers"]) <= 8
    assert tj["tiles"][0].endswith("/ogc/tiles/WebMercatorQuad/{z}/{y}/{x}")
    sel = tiles.get("/tiles/WebMercatorQuad",
                    params={"f": "tilejson", "collections": "roads,fire_hydrants"}).json()
    assert {v["id"] for v in sel["vector_layers"]} == {"roads", "fire_hydrants"}
    assert sel["tiles"][0].endswith("/{z}/{y}/{x}?collections=roads,fire_hydrants")


# -- content against the database -------------------------------------------------------------
def test_tile_features_and_attributes_match_the_database(tiles, conn):
    p = parcel(conn)
    t = TMS.tile(p["lon"], p["lat"], 16)
    r = tiles.get(tile_path("cadastral_parcels", t.z, t.y, t.x))
    assert r.status_code == 200 and r.headers["content-type"] == MVT
    layer = decode(r.content)["cadastral_parcels"]
    assert layer["extent"] == 4096
    got = {f["id"]: f["properties"] for f in layer["features"]}
    inside = {row["fid"]: row for row in conn.execute(
        "SELECT fid, commune_code, sheet_no, parcel_no, land_use_code "
        "FROM data.cadastral_parcels "
        "WHERE ST_Intersects(geom, ST_Transform(ST_TileEnvelope(%s, %s, %s), 4326))",
        (t.z, t.x, t.y))}
    near = {row["fid"] for row in conn.execute(
        "SELECT fid FROM data.cadastral_parcels WHERE geom && "
        "ST_Transform(ST_TileEnvelope(%s, %s, %s, margin => 64.0 / 4096), 4326)",
        (t.z, t.x, t.y))}
    assert set(inside) <= set(got) <= near
    assert len(inside) > 50
    for fid, row in inside.items():
        assert got[fid] == {k: v for k, v in row.items() if k != "fid"}, fid


def test_parcel_geometry_lands_where_its_coordinates_say(tiles, conn):
    p = parcel(conn, 777)
    t = TMS.tile(p["lon"], p["lat"], 18)
    layer = decode(tiles.get(tile_path("cadastral_parcels", t.z, t.y, t.x)).content)[
        "cadastral_parcels"]
    feat = next(f for f in layer["features"] if f["id"] == p["fid"])
    shape = shapely.geometry.shape(feat["geometry"])
    back = shapely.transform(shape, lambda xy: [tile_to_lonlat(t, a, b) for a, b in xy])
    assert metres((back.centroid.x, back.centroid.y), (p["lon"], p["lat"])) < 0.2
    db = shapely.from_wkt(p["wkt"])
    for x, y in shapely.get_coordinates(back):  # every tile vertex is a parcel corner
        near = min(metres((x, y), tuple(c)) for c in shapely.get_coordinates(db))
        assert near < 0.2


def test_multi_layer_tile_has_one_layer_per_visible_layer_drawn(tiles, conn):
    p = parcel(conn, 0)
    t = TMS.tile(p["lon"], p["lat"], 15)
    doc = decode(tiles.get(tile_path(None, t.z, t.y, t.x)).content)
    assert {"cadastral_parcels", "fire_hydrants", "roads"} <= set(doc)
    assert "water_pipes" not in doc
    hydrant = doc["fire_hydrants"]["features"][0]
    assert set(hydrant["properties"]) <= {"hydrant_code", "hydrant_type", "diameter",
                                          "status"}
    only = decode(tiles.get(tile_path(None, t.z, t.y, t.x),
                            params={"collections": "roads"}).content)
    assert set(only) == {"roads"}
    classes = {f["properties"]["road_class"] for f in only["roads"]["features"]}
    assert classes <= set(ROAD_CLASSES) and classes
    # z11: below the parcels' min zoom (12): roads only, no parcel layer at all
    t11 = TMS.tile(p["lon"], p["lat"], 11)
    doc = decode(tiles.get(tile_path(None, t11.z, t11.y, t11.x)).content)
    assert "roads" in doc and "cadastral_parcels" not in doc


def test_low_zoom_tiles_are_simplified_lines(tiles):
    t = TMS.tile(105.785, 10.035, 8)
    r = tiles.get(tile_path("roads", t.z, t.y, t.x))
    assert r.status_code == 200
    feats = decode(r.content)["roads"]["features"]
    assert len(feats) == 3
    for f in feats:
        assert f["geometry"]["type"] in ("LineString", "MultiLineString")
        assert len(shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))) <= 3


# -- overview zooms (tiles.full_zoom): small features left out, a budget a tile --------------
def test_overview_zooms_leave_out_parcels_under_min_size(tiles, conn):
    """Parcels: overview at z12-13 (full from 14), parcels under 3 px of a 512-px tile left
    out. The test parcels are 0.0003° x 0.0002°: 3.4 px wide at z13, 1.7 px at z12."""
    opts = get_layer_def("cadastral_parcels").tiles
    assert (opts.min_zoom, opts.full_zoom, opts.min_size) == (12, 14, 3)
    p = parcel(conn)
    t = TMS.tile(p["lon"], p["lat"], 13)
    r = tiles.get(tile_path("cadastral_parcels", t.z, t.y, t.x))
    assert r.status_code == 200
    feats = decode(r.content)["cadastral_parcels"]["features"]
    inside = {row["fid"] for row in conn.execute(
        "SELECT fid FROM data.cadastral_parcels "
        "WHERE ST_Intersects(geom, ST_Transform(ST_TileEnvelope(%s, %s, %s), 4326))",
        (t.z, t.x, t.y))}
    assert inside <= {f["id"] for f in feats} and len(feats) <= opts.max_features
    min_units = opts.min_size * 4096 / 512  # tile grid units
    for f in feats:
        x0, y0, x1, y1 = shapely.geometry.shape(f["geometry"]).bounds
        assert max(x1 - x0, y1 - y0) >= min_units - 1, f["id"]  # snapped to the grid
    t = TMS.tile(p["lon"], p["lat"], 12)  # every test parcel under 3 px: none drawn
    assert tiles.get(tile_path("cadastral_parcels", t.z, t.y, t.x)).status_code == 204
    doc = decode(tiles.get(tile_path(None, t.z, t.y, t.x)).content)
    assert "roads" in doc and "cadastral_parcels" not in doc


def test_overview_tile_keeps_at_most_max_features_the_largest(database_url, conn):
    """The budget of an overview tile, on the tile statement itself (a layer file with a
    budget of 10): exactly the 10 parcels of the tile with the greatest bounding-box side (in
    Web Mercator, where the pixels are)."""
    from services.catalog import Catalog
    from services.tiles import mvt

    async def read():
        async with await psycopg.AsyncConnection.connect(
                web_role_url(database_url), row_factory=dict_row) as c:
            return await Catalog().layers(c)

    layer = asyncio.run(read())["cadastral_parcels"]
    opts = layer.definition.tiles.model_copy(update={"max_features": 10, "min_size": 0.5})
    layer = dataclasses.replace(layer, definition=layer.definition.model_copy(
        update={"tiles": opts}))
    p = parcel(conn, 50)
    t = TMS.tile(p["lon"], p["lat"], 13)
    # as served; transforming (SPP_TILE_STORED_MERCATOR=0); a table without the stored copy
    for stored, mercator in ((True, True), (False, True), (True, False)):
        seen = dataclasses.replace(layer, mercator=mercator)
        query = mvt.tile_query([mvt.tile_layer(PUBLIC, seen)], 13, stored)
        data = conn.execute(query, {"z": t.z, "x": t.x, "y": t.y}).fetchone()["mvt"]
        feats = decode(bytes(data))["cadastral_parcels"]["features"]
        sizes = {r["fid"]: r["size"] for r in conn.execute(
            "SELECT fid, greatest(ST_XMax(b) - ST_XMin(b), ST_YMax(b) - ST_YMin(b)) AS size "
            "FROM (SELECT fid, geom, Box2D(geom_3857) AS b FROM data.cadastral_parcels) p "
            "WHERE geom && "
            "ST_Transform(ST_TileEnvelope(%s, %s, %s), 4326)", (t.z, t.x, t.y))}
        assert len(sizes) > 10 and len(feats) == 10
        kept = {f["id"] for f in feats}
        assert min(sizes[k] for k in kept) >= max(v for k, v in sizes.items() if k not in kept)


def _index_scans(plan: dict) -> list[tuple[str, int]]:
    """(index name, rows it returned) of every index scan in an EXPLAIN ANALYZE JSON plan."""
    found = [(plan["Index Name"], plan["Actual Rows"])] if "Index Name" in plan else []
    for sub in plan.get("Plans", []):
        found += _index_scans(sub)
    return found


def test_overview_tiles_read_only_the_features_big_enough(database_url, conn):
    """An overview zoom of parcels where most parcels are too small to draw gets a partial index
    of the parcels at least 3 px there (gis.overview), made by the load, and the tile statement
    reads it: at z12, where every test parcel is under 3 px, the index gives no row although
    the tile holds hundreds. At z13 all are 3.5 px wide: such an index would leave nothing out,
    so the load does not build it and the tile reads the full index. Without the index the
    tiles are the same bytes (the size test is then a filter)."""
    from services.catalog import Catalog
    from services.tiles import mvt

    async def read():
        async with await psycopg.AsyncConnection.connect(
                web_role_url(database_url), row_factory=dict_row) as c:
            return await Catalog().layers(c)

    layer = asyncio.run(read())["cadastral_parcels"]
    table = f"cadastral_parcels__v{layer.current_version}"
    partial = {r["indexname"] for r in conn.execute(
        "SELECT indexname FROM pg_indexes WHERE schemaname = 'data' AND tablename = %s "
        "AND indexdef LIKE '%%WHERE%%'", (table,))}
    assert len(partial) == 1  # z12 only: at z13 every test parcel is drawn
    p = parcel(conn)
    tiles, tls = {}, [mvt.tile_layer(PUBLIC, layer)]
    for z in (12, 13):
        t = TMS.tile(p["lon"], p["lat"], z)
        args = {"z": t.z, "x": t.x, "y": t.y}
        inside = conn.execute(
            "SELECT count(*) AS n FROM data.cadastral_parcels "
            "WHERE geom && ST_Transform(ST_TileEnvelope(%s, %s, %s), 4326)",
            (t.z, t.x, t.y)).fetchone()["n"]
        plan = conn.execute(sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) {}").format(
            mvt.tile_query(tls, z)), args).fetchone()["QUERY PLAN"][0]["Plan"]
        used = [(name, n) for name, n in _index_scans(plan) if name in partial]
        assert inside > 100, (z, inside)
        if z == 12:
            assert used and used[0][1] == 0, (z, _index_scans(plan))
        else:
            assert not used and _index_scans(plan), (z, _index_scans(plan))
        tiles[z] = (args, conn.execute(mvt.tile_query(tls, z), args).fetchone()["mvt"])
    assert tiles[12][1] == b"" and len(tiles[13][1]) > 1000
    with conn.transaction(force_rollback=True):  # the same tiles without the indexes
        for name in partial:
            conn.execute(sql.SQL("DROP INDEX data.{}").format(
                sql.Identifier(name)))
        for z, (args, data) in tiles.items():
            assert conn.execute(mvt.tile_query(tls, z), args).fetchone()["mvt"] == data


# -- zoom limits, empty tiles, invalid coordinates -------------------------------------------
def test_zoom_limits_and_empty_tiles_are_204(tiles, conn):
    p = parcel(conn)
    for z in (11, 10, 0):  # below cadastral_parcels' min_zoom 12
        t = TMS.tile(p["lon"], p["lat"], z)
        r = tiles.get(tile_path("cadastral_parcels", t.z, t.y, t.x))
        assert r.status_code == 204 and r.content == b"" and r.headers["ETag"]
    t = TMS.tile(p["lon"], p["lat"], 22)
    assert tiles.get(tile_path("cadastral_parcels", 22, t.y, t.x)).status_code == 200
    t = TMS.tile(p["lon"], p["lat"], 23)  # beyond max_zoom 22 (clients overzoom z22)
    assert tiles.get(tile_path("cadastral_parcels", 23, t.y, t.x)).status_code == 204
    hanoi = TMS.tile(105.85, 21.03, 16)  # in range, but no data there
    r = tiles.get(tile_path("cadastral_parcels", 16, hanoi.y, hanoi.x))
    assert r.status_code == 204 and r.content == b""
    r = tiles.get(tile_path(None, 16, hanoi.y, hanoi.x))
    assert r.status_code == 204
    t7 = TMS.tile(105.785, 10.035, 7)  # roads start at 8
    assert tiles.get(tile_path("roads", 7, t7.y, t7.x)).status_code == 204


@pytest.mark.parametrize("path,status", [
    ("/collections/cadastral_parcels/tiles/WebMercatorQuad/15/abc/1", 400),
    ("/collections/cadastral_parcels/tiles/WebMercatorQuad/-1/0/0", 400),
    ("/collections/cadastral_parcels/tiles/WebMercatorQuad/15/1.5/0", 400),
    ("/collections/cadastral_parcels/tiles/WebMercatorQuad/99/0/0", 404),
    ("/collections/cadastral_parcels/tiles/WebMercatorQuad/3/8/0", 404),
    ("/collections/cadastral_parcels/tiles/WebMercatorQuad/3/0/8", 404),
    ("/collections/cadastral_parcels/tiles/WebMercatorQuad/99999999999/0/0", 400),
    ("/collections/cadastral_parcels/tiles/GoogleCRS84Quad/3/0/0", 404),
    ("/collections/no_such_layer/tiles/WebMercatorQuad/3/0/0", 404),
    ("/tiles/WebMercatorQuad/3/9/0", 404),
    ("/tiles/WebMercatorQuad/x/0/0", 400),
    ("/collections/cadastral_parcels/tiles/WebMercatorQuad?f=png", 400),
])
def test_invalid_tile_requests_are_client_errors(tiles, path, status):
    r = tiles.get(path)
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"code", "description"} and body["description"]


# -- caching -----------------------------------------------------------------------------------
def test_etag_and_304(tiles, conn):
    p = parcel(conn)
    t = TMS.tile(p["lon"], p["lat"], 16)
    path = tile_path("cadastral_parcels", t.z, t.y, t.x)
    r = tiles.get(path)
    etag = r.headers["ETag"]
    assert r.status_code == 200 and etag
    assert r.headers["Cache-Control"].startswith("public, max-age=")
    again = tiles.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    assert tiles.get(path, headers={"If-None-Match": 'W/"other"'}).status_code == 200
    # gzip when asked, the same tile either way
    url = str(tiles.base_url).rstrip("/") + path
    gz = httpx.get(url, headers={"Accept-Encoding": "gzip"})
    plain = httpx.get(url, headers={"Accept-Encoding": "identity"})
    assert gz.headers.get("content-encoding") == "gzip"
    assert "content-encoding" not in plain.headers
    assert gz.content == plain.content == r.content


def test_tile_cache_on_disk_and_a_new_version_invalidates_it(tiles, tile_server, tiles_data):
    _, cache_dir = tile_server
    t = TMS.tile(105.785, 10.035, 14)
    path = tile_path("roads", t.z, t.y, t.x)
    first = tiles.get(path)
    names = {f["properties"]["name"] for f in decode(first.content)["roads"]["features"]}
    assert "Mậu Thân" in names
    cached = list(cache_dir.glob(f"*/{t.z}/{t.x}/{t.y}.mvt"))
    assert cached and any(c.read_bytes() == first.content for c in cached)
    assert tiles.get(path).content == first.content  # served from the cache
    load_roads(tiles_data["folder"], " (mới)")
    # the service's catalog re-reads layer versions at most once a second: poll for the new one
    deadline = time.monotonic() + 15
    while True:
        second = tiles.get(path, headers={"If-None-Match": first.headers["ETag"]})
        if second.status_code != 304 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert second.status_code == 200 and second.headers["ETag"] != first.headers["ETag"]
    names = {f["properties"]["name"] for f in decode(second.content)["roads"]["features"]}
    assert "Mậu Thân (mới)" in names
    assert len(list(cache_dir.glob(f"*/{t.z}/{t.x}/{t.y}.mvt"))) == len(cached) + 1
