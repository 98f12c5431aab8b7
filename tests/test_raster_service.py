"""Raster services against a real `gis serve`: point values and zonal statistics compared
with direct rasterio reads of the DELIVERED grid (VN-2000 TM-3, positions through
gis.crs.from_wgs84), map tiles coloured by class, coverage subsets, parcel flood summaries,
and access (a restricted raster is a 404 for the public, visible to its departments)."""

from __future__ import annotations

import io
import subprocess

import httpx
import morecantile
import numpy as np
import pytest
import rasterio
import shapely
from PIL import Image
from rasterio.features import geometry_mask

from gis.crs import from_wgs84, transform_geometries
from gis.layerdef import get_layer_def
from tests.conftest import run_gis
from tests.raster_fixtures import current_cog

pytest_plugins = ["tests.ogc_fixtures", "tests.raster_fixtures"]
TMS = morecantile.tms.get("WebMercatorQuad")
TILE = "/ogc/collections/{id}/map/tiles/WebMercatorQuad/{z}/{y}/{x}"


@pytest.fixture(scope="module")
def api(ogc_server, raster_data):
    with httpx.Client(base_url=ogc_server.removesuffix("/ogc"), timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def source(raster_data):
    with rasterio.open(raster_data["flood_depth_100y"]) as src:
        return src.read(1), src.transform


def _source_value(source, lon, lat):
    data, t = source
    e, n = from_wgs84("vn2000-cantho").transform(np.atleast_1d(lon), np.atleast_1d(lat))
    c, r = ~t * (e, n)
    return data[r.astype(int), c.astype(int)], (c, r)


def test_point_values_match_the_delivered_grid(api, source):
    rng = np.random.default_rng(7)
    lon = rng.uniform(105.745, 105.80, 200)
    lat = rng.uniform(9.98, 10.035, 200)
    expected, (c, r) = _source_value(source, lon, lat)
    checked = 0
    for k in range(len(lon)):
        # cells next to a river bank mix water (nodata) and land: skip them
        rr, cc = int(r[k]), int(c[k])
        block = source[0][rr - 2:rr + 3, cc - 2:cc + 3]
        if block.shape != (5, 5) or (block == -9999).any():
            continue
        got = api.get("/api/rasters/flood_depth_100y/value",
                      params={"lon": lon[k], "lat": lat[k]}).json()
        # bilinear warp of a smooth 5 m grid: within the local variation of the source
        tol = 0.02 + np.abs(block - expected[k]).max()
        assert abs(got["value"] - expected[k]) <= tol, (lon[k], lat[k], got, expected[k])
        if got["class"] is not None:
            lo, hi = got["class"]["min"], got["class"]["max"]
            assert lo <= got["value"] and (hi is None or got["value"] < hi)
        checked += 1
    assert checked > 100
    river = api.get("/api/rasters/flood_depth_100y/value",
                    params={"lon": 105.8102, "lat": 10.0100}).json()  # in Sông Hậu
    assert river["value"] is None
    outside = api.get("/api/rasters/flood_depth_100y/value", params={"lon": 106.2, "lat": 9.6})
    assert outside.status_code == 200 and outside.json()["value"] is None


def _direct_zonal(source, polygon_wgs84):
    """Shares computed straight on the delivered grid: the polygon taken to TM-3 through
    EPSG:6960, cell centres inside it, nodata left out."""
    data, t = source
    plane = transform_geometries(np.array([polygon_wgs84], dtype=object),
                                 from_wgs84("vn2000-cantho"))[0]
    inside = geometry_mask([plane], out_shape=data.shape, transform=t, invert=True)
    v = data[inside & (data != -9999)].astype(np.float64)
    return v, int(inside.sum())


@pytest.mark.parametrize("box", [(105.765, 10.005, 105.770, 10.010),
                                 (105.775, 9.990, 105.785, 10.000),
                                 (105.7905, 10.020, 105.7995, 10.030)])  # crosses a river bank
def test_zonal_statistics_match_a_direct_masked_computation(api, source, box):
    poly = shapely.box(*box).buffer(0.0004, quad_segs=4)  # a rounded box, not cell-aligned
    got = api.post("/api/rasters/flood_depth_100y/zonal",
                   json=shapely.geometry.mapping(poly)).json()
    v, cells = _direct_zonal(source, poly)
    assert got["count"] > 1000 and v.size > 1000
    assert abs(got["count"] / v.size - 1) < 0.02  # same area, 5 m cells on both sides
    assert abs(got["coverage"] - v.size / cells) < 0.01
    assert abs(got["mean"] - v.mean()) < 0.01
    assert abs(got["min"] - v.min()) < 0.05 and abs(got["max"] - v.max()) < 0.05
    layer = get_layer_def("flood_depth_100y")
    for cls, g in zip(layer.classes, got["classes"], strict=True):
        sel = (v >= cls.min) & (v < cls.max if cls.max is not None else True)
        assert abs(g["share"] - sel.mean()) < 0.015, (cls.label.en, g["share"], sel.mean())
        assert g["label"] == cls.label.model_dump()
    for a in got["above"]:
        assert abs(a["share"] - (v > a["threshold"]).mean()) < 0.015
    assert abs(sum(g["share"] for g in got["classes"]) - 1) < 1e-9
    dom = got["dominant"]
    assert f"{round(dom['share'] * 100)} %" in got["summary"]["en"]


def test_zonal_rejects_bad_geometry(api):
    bad = api.post("/api/rasters/flood_depth_100y/zonal",
                   json={"type": "Point", "coordinates": [105.77, 10.0]})
    assert bad.status_code == 400 and "Polygon" in bad.json()["description"]
    assert api.post("/api/rasters/flood_depth_100y/zonal", content=b"{").status_code == 400
    tiny = shapely.box(105.7700, 10.0050, 105.77001, 10.00501)  # 1 m: no cell centre inside
    got = api.post("/api/rasters/flood_depth_100y/zonal", json=shapely.geometry.mapping(tiny))
    assert got.status_code == 200 and got.json()["method"] == "all_touched"


def test_map_tiles_colour_each_pixel_by_its_class(api, source, raster_data):
    layer = get_layer_def("flood_depth_100y")
    tile = TMS.tile(105.775, 10.005, 15)
    r = api.get(TILE.format(id="flood_depth_100y", z=tile.z, y=tile.y, x=tile.x),
                params={"f": "png"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    img = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGBA"))
    assert img.shape == (256, 256, 4)
    b = TMS.bounds(tile)
    rng = np.random.default_rng(3)
    agree = total = 0
    for px, py in rng.integers(0, 256, (300, 2)):
        lon = b.left + (px + 0.5) * (b.right - b.left) / 256
        y_merc = TMS.xy_bounds(tile)
        ym = y_merc.top - (py + 0.5) * (y_merc.top - y_merc.bottom) / 256
        lat = float(np.degrees(np.arctan(np.sinh(ym / 6378137.0))))
        val, (c, rr) = _source_value(source, lon, lat)
        block = source[0][int(rr[0]) - 2:int(rr[0]) + 3, int(c[0]) - 2:int(c[0]) + 3]
        if (block == -9999).any() or np.ptp(block) > 0.04:
            continue  # river banks and class edges: resampling may pick the neighbour
        v = float(val[0])
        want = (0, 0, 0, 0) if v <= 0 else next(
            tuple(int(cl.color[i:i + 2], 16) for i in (1, 3, 5)) + (255,)
            for cl in layer.classes if cl.contains(v))
        total += 1
        agree += tuple(img[py, px]) == want
    assert total > 100 and agree / total > 0.97, (agree, total)
    webp = api.get(TILE.format(id="flood_depth_100y", z=tile.z, y=tile.y, x=tile.x),
                   params={"f": "webp"})
    assert webp.status_code == 200 and webp.content[8:12] == b"WEBP"
    again = api.get(TILE.format(id="flood_depth_100y", z=tile.z, y=tile.y, x=tile.x),
                    headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


def test_tiles_outside_data_or_zoom_are_empty_and_bad_ones_refused(api):
    far = TMS.tile(106.2, 9.5, 14)
    assert api.get(TILE.format(id="flood_depth_100y", z=14, y=far.y, x=far.x)
                   ).status_code == 204
    t = TMS.tile(105.775, 10.005, 5)
    assert api.get(TILE.format(id="flood_depth_100y", z=5, y=t.y, x=t.x)).status_code == 204
    assert api.get(TILE.format(id="flood_depth_100y", z=3, y=9, x=1)).status_code == 404
    assert api.get(TILE.format(id="flood_depth_100y", z="a", y=1, x=1)).status_code == 400
    low = TMS.tile(105.775, 10.005, 9)  # overview level
    r = api.get(TILE.format(id="elevation_dem", z=9, y=low.y, x=low.x))
    assert r.status_code == 200


def test_coverage_subset_equals_the_cog_window(api, raster_data, conn, session_dir):
    box = (105.76, 10.00, 105.78, 10.02)
    r = api.get("/ogc/collections/flood_depth_100y/coverage",
                params={"bbox": ",".join(map(str, box)), "f": "tif"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/tiff")
    cog = current_cog(conn, "flood_depth_100y", session_dir / "data")
    with rasterio.MemoryFile(r.content) as mem, mem.open() as sub, rasterio.open(cog) as full:
        assert sub.crs.to_epsg() == 4326 and sub.nodata == -9999
        w, s, e, n = sub.bounds
        assert w <= box[0] and s <= box[1] and e >= box[2] and n >= box[3]
        win = full.window(*sub.bounds)
        ref = full.read(1, window=win.round_offsets().round_lengths())
        assert np.array_equal(sub.read(1), ref)
        assert (sub.read(1) == -9999).any()  # the river is there, as nodata
    assert api.get("/ogc/collections/flood_depth_100y/coverage",
                   params={"bbox": "1,2,3"}).status_code == 400
    assert api.get("/ogc/collections/flood_depth_100y/coverage",
                   params={"bbox": "100,1,101,2"}).status_code == 400


def test_parcel_flood_summary(api, ogc_data, raster_data):
    fid = ogc_data["fid"]
    r = api.get(f"/api/parcels/{fid}/flood")
    assert r.status_code == 200, r.text
    rows = {row["layer"]: row for row in r.json()["flood"]}
    assert set(rows) == {"flood_depth_10y", "flood_depth_100y"}
    for row in rows.values():
        assert row["count"] > 0 and row["summary"]["vi"] and row["summary"]["en"]
        assert abs(sum(c["share"] for c in row["classes"]) - 1) < 1e-9
    assert rows["flood_depth_100y"]["mean"] >= rows["flood_depth_10y"]["mean"]
    assert api.get("/api/parcels/999999999/flood").status_code == 404


def test_restricted_raster_is_404_for_the_public_and_seen_by_its_departments(api):
    t = TMS.tile(105.7786, 10.0316, 16)
    urls = [TILE.format(id="orthophoto", z=16, y=t.y, x=t.x),
            "/api/rasters/orthophoto", "/api/rasters/orthophoto/value?lon=105.7786&lat=10.0316",
            "/ogc/collections/orthophoto/coverage?bbox=105.778,10.031,105.779,10.032",
            "/ogc/collections/orthophoto/map/tiles/WebMercatorQuad"]
    for url in urls:
        assert api.get(url).status_code == 404, url
    assert api.post("/api/rasters/orthophoto/zonal", json=shapely.geometry.mapping(
        shapely.box(105.778, 10.031, 105.779, 10.032))).status_code == 404
    listed = {x["id"] for x in api.get("/api/rasters").json()["rasters"]}
    assert "orthophoto" not in listed and {"flood_depth_100y", "elevation_dem"} <= listed
    key = run_gis("keys", "create", "--name", "raster test", "--department", "sxd",
                  check=True).stdout.strip().splitlines()[-1]
    staff = {"X-API-Key": key}
    tile = api.get(urls[0], headers=staff)
    assert tile.status_code == 200 and tile.headers["cache-control"].startswith("private")
    img = np.asarray(Image.open(io.BytesIO(tile.content)).convert("RGBA"))
    assert (img[..., 3] == 255).sum() > 1000
    val = api.get(urls[2], headers=staff).json()
    assert isinstance(val["value"], list) and len(val["value"]) == 4
    other = run_gis("keys", "create", "--name", "raster test 2", "--department", "syt",
                    check=True).stdout.strip().splitlines()[-1]
    assert api.get(urls[0], headers={"X-API-Key": other}).status_code == 404


def test_raster_layers_are_coverage_collections(api, conn, raster_data, ogc_server):
    public_rasters = {r["id"] for r in conn.execute(
        "SELECT id FROM spp.layers WHERE current_version IS NOT NULL AND "
        "access_level = 'public' AND definition->>'kind' = 'raster'")}
    assert {"flood_depth_100y", "elevation_dem"} <= public_rasters
    listed = {r["id"]: r["links"]["collection"] for r in api.get("/api/rasters").json()["rasters"]}
    assert set(listed) == public_rasters  # orthophoto is restricted
    landing = api.get("/ogc").json()
    assert any(lk["rel"] == "related" and lk["href"].endswith("/api/rasters")
               for lk in landing["links"])
    flood = httpx.get(listed["flood_depth_100y"], timeout=60).json()
    assert flood["id"] == "flood_depth_100y" and flood["itemType"] == "coverage"
    links = {lk["rel"].rsplit("/", 1)[-1]: lk["href"] for lk in flood["links"]}
    assert "items" not in links
    west, south, east, north = flood["extent"]["spatial"]["bbox"][0]
    cov = httpx.get(links["coverage"] + f"&bbox={west},{south},{west + 0.01},{south + 0.01}",
                    timeout=60)
    assert cov.status_code == 200 and cov.headers["content-type"].startswith("image/tiff")
    with rasterio.open(io.BytesIO(cov.content)) as d:
        assert d.crs.to_epsg() == 4326 and d.width > 0
    tiles = httpx.get(links["tilesets-map"], timeout=60)
    assert tiles.status_code == 200 and "{z}" in tiles.text
    items = api.get("/ogc/collections/flood_depth_100y/items")
    assert items.status_code == 404 and "raster" in items.json()["description"]
    assert api.get("/ogc/collections/orthophoto").status_code == 404
    assert api.get("/ogc/collections/no_such_layer/items").json()["description"].startswith(
        "no collection")
    # the feature list holds no raster: GDAL's OAPIF driver would take each listed collection
    # for a feature layer and fail on its items
    ids = {x["id"] for x in api.get("/ogc/collections").json()["collections"]}
    assert "cadastral_parcels" in ids and not ids & public_rasters
    out = subprocess.run(["ogrinfo", "-ro", "-q", f"OAPIF:{ogc_server}"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0 and "ERROR" not in out.stderr, out.stderr
    assert "cadastral_parcels" in out.stdout and "flood_depth_100y" not in out.stdout
