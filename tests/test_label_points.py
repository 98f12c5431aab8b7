"""Stored label points (gis.labelpoint) against a real PostGIS and a real `gis serve`: each
polygon's point is a largest-inscribed-circle centre as PostGIS computes it, every writer keeps
it right (load, append, edits on an overlay and on a full table), and z17 tiles draw the
stored point, or compute it where a version has none."""

from __future__ import annotations

import httpx
import mapbox_vector_tile
import morecantile
import numpy as np
import psycopg
import pytest
import shapely
from psycopg.rows import dict_row

from gis import edits, labelpoint
from gis.edits import Op
from gis.layerdef import get_layer_def
from gis.settings import get_settings
from tests.builders import parcel_frame, write
from tests.conftest import run_gis, serve

LAYER = "cadastral_parcels"
TMS = morecantile.tms.get("WebMercatorQuad")
ORIGIN = (105.7800, 10.0300)
STEP = 0.0004  # degrees between parcels (about 44 m)


def l_shape(x: float, y: float, arm: float, width: float) -> shapely.Polygon:
    """An L whose centroid lies outside it and whose widest part is its corner."""
    return shapely.Polygon([(x, y), (x + arm, y), (x + arm, y + width), (x + width, y + width),
                            (x + width, y + arm), (x, y + arm)])


def parcels(n: int, start_sheet: int = 1):
    x0, y0 = ORIGIN
    geoms = [l_shape(x0 + STEP * (i % 6), y0 + STEP * (i // 6) + start_sheet * 0.01,
                     0.0003, 0.0001 + 0.00001 * i) for i in range(n)]
    return parcel_frame(n, crs="EPSG:4326", epsg=4326, start_sheet=start_sheet, geoms=geoms)


def stored(c) -> dict[int, dict]:
    """fid -> the stored point, its distance to the boundary and PostGIS's own circle."""
    col = labelpoint.COLUMN
    return {r["fid"]: r for r in c.execute(
        f"SELECT fid, ST_AsText({col}) AS p, ST_Contains(geom_3857, {col}) AS inside, "
        f"ST_Distance({col}, ST_Boundary(geom_3857)) AS clearance, "
        f"(ST_MaximumInscribedCircle(geom_3857)).radius AS radius FROM data.{LAYER}")}


def assert_label_points(rows: dict[int, dict]) -> None:
    for fid, r in rows.items():
        assert r["p"] is not None, f"feature {fid} has no label point"
        assert r["inside"], (fid, r)
        # a largest inscribed circle: as wide as PostGIS's (both to 1/1000 of the extent)
        assert r["clearance"] == pytest.approx(r["radius"], rel=0.02), (fid, r)


@pytest.fixture
def db(own_database, open_tmp, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", own_database)
    get_settings.cache_clear()
    run_gis("load", str(write(parcels(12), open_tmp / "thua.geojson")), "--layer", LAYER,
            "--force", "--allow-shrink", check=True)
    with psycopg.connect(own_database, autocommit=True, row_factory=dict_row) as c:
        yield c
    get_settings.cache_clear()


def test_points_are_inscribed_circle_centres_and_only_for_polygons():
    geoms = np.array([l_shape(105.78, 10.03, 0.0003, 0.0001), shapely.Point(105.78, 10.03),
                      shapely.Polygon(), None,
                      shapely.MultiPolygon([shapely.box(105.78, 10.03, 105.7801, 10.0301),
                                            shapely.box(105.79, 10.03, 105.7904, 10.0304)])],
                     dtype=object)
    out = labelpoint.points_wkb(geoms)
    assert out[1:4] == [None, None, None]

    def lonlat(wkb):
        p = shapely.from_wkb(wkb)
        return labelpoint._to_mercator().transform(p.x, p.y, direction="INVERSE")

    lon, lat = lonlat(out[0])
    # in the L's corner square, not at its centroid (which lies outside the L)
    assert 105.78 < lon < 105.7801 and 10.03 < lat < 10.0301
    lon, lat = lonlat(out[4])  # a multipolygon: the centre of its wider part
    assert lon == pytest.approx(105.7902, abs=1e-6) and lat == pytest.approx(10.0302, abs=1e-6)


def test_a_load_stores_a_point_for_every_parcel(db):
    rows = stored(db)
    assert len(rows) == 12
    assert_label_points(rows)


def test_edits_keep_points_right_on_an_overlay_and_a_full_table(db, monkeypatch):
    layer = get_layer_def(LAYER)
    before = stored(db)
    fids = sorted(before)
    moved = l_shape(105.7900, 10.0500, 0.0005, 0.0002)
    geometry = shapely.geometry.mapping(moved)
    geometry = {"type": geometry["type"], "coordinates": [
        [list(p) for p in ring] for ring in geometry["coordinates"]]}
    r = edits.apply(db, layer, [
        Op("update", fids[0], {"geometry": geometry}),
        Op("update", fids[1], {"properties": {"land_use_code": "ODT"}})], "x", {})
    assert r.strategy == "overlay"
    after = stored(db)
    assert_label_points(after)
    assert after[fids[1]]["p"] == before[fids[1]]["p"]  # an attribute edit keeps its point
    p = db.execute(f"SELECT ST_Contains(ST_Transform(%s::geometry, 3857), {labelpoint.COLUMN}) "
                   "AS ok FROM data.cadastral_parcels WHERE fid = %s",
                   (shapely.to_wkt(moved).replace("POLYGON", "SRID=4326;POLYGON"),
                    fids[0])).fetchone()
    assert p["ok"]  # the moved parcel's point followed it

    monkeypatch.setenv("SPP_EDIT_OVERLAY_MAX_ROWS", "0")
    get_settings.cache_clear()
    new = {"type": "Feature", "geometry": geometry | {"coordinates": [
        [[x + 0.001, y] for x, y in geometry["coordinates"][0]]]},
        "properties": {"commune_code": "31135", "sheet_no": 99, "parcel_no": 1}}
    r = edits.apply(db, layer, [Op("create", feature=new)], "x", {})
    assert r.strategy == "table"
    full = stored(db)
    assert len(full) == 13 and r.fids[0] in full
    assert_label_points(full)
    assert all(full[f]["p"] == after[f]["p"] for f in fids)  # copied, not recomputed


def test_an_append_copies_the_current_points(db, open_tmp):
    before = stored(db)
    run_gis("load", str(write(parcels(3, start_sheet=5), open_tmp / "them.geojson")),
            "--layer", LAYER, "--mode", "append", check=True)
    after = stored(db)
    assert len(after) == 15
    assert_label_points(after)
    assert all(after[f]["p"] == before[f]["p"] for f in before)


def test_z17_tiles_draw_the_stored_point_or_compute_a_missing_one(db, own_database,
                                                                  session_dir):
    rows = stored(db)
    missing = min(rows)
    table = db.execute("SELECT table_name FROM spp.layer_versions v JOIN spp.layers l ON "
                       "l.id = v.layer_id AND l.current_version = v.version WHERE l.id = %s",
                       (LAYER,)).fetchone()["table_name"]
    # a version from before the column was filled: the tile must compute this one itself
    db.execute(f'UPDATE data."{table}" SET {labelpoint.COLUMN} = NULL WHERE fid = %s',
               (missing,))
    want = {r["fid"]: r for r in db.execute(
        f"SELECT fid, ST_X(p) AS x, ST_Y(p) AS y, ST_Contains(geom_3857, p) AS inside FROM "
        f"(SELECT fid, geom_3857, coalesce({labelpoint.COLUMN}, "
        "(ST_MaximumInscribedCircle(geom_3857)).center) AS p FROM data.cadastral_parcels) s"
    ).fetchall()}
    lon0, lat0, lon1, lat1 = shapely.total_bounds(np.asarray(parcels(12).geometry))
    got = {}
    with serve(own_database, session_dir / "label_points_serve.log",
               SPP_RATE_IP_PER_S="0") as root:
        for t in TMS.tiles(lon0, lat0, lon1, lat1, zooms=[17]):
            r = httpx.get(f"{root}/ogc/collections/{LAYER}/tiles/WebMercatorQuad/"
                          f"{t.z}/{t.y}/{t.x}", timeout=30)
            assert r.status_code in (200, 204), r.text
            if r.status_code == 204:
                continue
            b = TMS.xy_bounds(t)
            tile = mapbox_vector_tile.decode(r.content).get(LAYER, {"features": []})
            for f in tile["features"]:
                if f["geometry"]["type"] == "Point":
                    x, y = f["geometry"]["coordinates"]
                    assert f["id"] not in got, "a label point sent by two tiles"
                    got[f["id"]] = (b.left + x / 4096 * (b.right - b.left),
                                    b.bottom + y / 4096 * (b.top - b.bottom))
    assert set(got) == set(want)
    for fid, (x, y) in got.items():
        unit = (b.right - b.left) / 4096  # one tile unit at z17: about 7.5 cm
        assert x == pytest.approx(want[fid]["x"], abs=unit) and \
            y == pytest.approx(want[fid]["y"], abs=unit), fid
        assert want[fid]["inside"]
