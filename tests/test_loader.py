"""`gis load`: formats, CRS cases, geometry repair, modes, versions, failures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import zipfile

import numpy as np
import pyogrio
import pytest
import shapely

from gis.crs import from_wgs84, transform_geometries
from tests.builders import parcel_boxes, parcel_frame, write
from tests.conftest import GIS, ROOT, SHARED_DATA, run_gis

LAYER = "cadastral_parcels"

pytestmark = pytest.mark.usefixtures("own_database")


@pytest.fixture
def conn(own_conn):
    """This module's loads go to a database of its own (see conftest.own_database)."""
    return own_conn


@pytest.fixture
def fresh_layer(conn):
    """Start every test with no data for the parcels layer."""
    _reset(conn, LAYER)
    yield LAYER
    _reset(conn, LAYER)


def _reset(conn, layer_id):
    rows = conn.execute("SELECT table_name FROM spp.layer_versions WHERE layer_id = %s AND "
                        "table_name IS NOT NULL", (layer_id,)).fetchall()
    conn.execute(f'DROP VIEW IF EXISTS data."{layer_id}"')
    for r in rows:
        conn.execute(f'DROP TABLE IF EXISTS data."{r["table_name"]}"')
    conn.execute("DELETE FROM spp.layer_versions WHERE layer_id = %s", (layer_id,))
    conn.execute("UPDATE spp.layers SET current_version = NULL, feature_count = NULL "
                 "WHERE id = %s", (layer_id,))


def load(path, *args, check=True):
    return run_gis("load", str(path), "--layer", LAYER, *args, env={"COLUMNS": "200"},
                   check=check)


def current(conn, layer_id=LAYER):
    return conn.execute("SELECT l.current_version, l.feature_count, v.* FROM spp.layers l "
                        "JOIN spp.layer_versions v ON v.layer_id = l.id AND "
                        "v.version = l.current_version WHERE l.id = %s", (layer_id,)).fetchone()


def centroids(conn, layer_id=LAYER):
    rows = conn.execute(f'SELECT sheet_no, parcel_no, ST_X(ST_Centroid(geom)) AS x, '
                        f'ST_Y(ST_Centroid(geom)) AS y FROM data."{layer_id}" '
                        f"ORDER BY sheet_no, parcel_no").fetchall()
    return np.array([[r["x"], r["y"]] for r in rows])


def expected_centroids(n, origin=None, cols=50):
    boxes = parcel_boxes(n, cols=cols) if origin is None else parcel_boxes(n, origin, cols=cols)
    return shapely.get_coordinates(shapely.centroid(boxes))


# -- formats ----------------------------------------------------------------------------
FORMATS = {
    "shapefile": ("p.shp", {}),
    "geopackage": ("p.gpkg", {"layer": "thua_dat"}),
    "geojson": ("p.geojson", {}),
    "filegdb": ("p.gdb", {"driver": "OpenFileGDB", "layer": "thua_dat"}),
    "mapinfo": ("p.tab", {"driver": "MapInfo File"}),
    "kml": ("p.kml", {"driver": "KML"}),
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_loads_exactly(fmt, fresh_layer, conn, tmp_path):
    name, kwargs = FORMATS[fmt]
    gdf = parcel_frame(40)
    if fmt in ("geojson", "kml"):  # these formats are WGS 84 by definition
        gdf = parcel_frame(40, crs="EPSG:4326", epsg=4326)
    path = write(gdf, tmp_path / name, **kwargs)
    load(path)
    row = current(conn)
    assert row["feature_count"] == 40 and row["count_rejected"] == 0
    got = centroids(conn)
    np.testing.assert_allclose(got, expected_centroids(40), atol=1e-8)  # ~1 mm
    sheets = conn.execute(f'SELECT DISTINCT sheet_no FROM data."{LAYER}"').fetchall()
    assert {r["sheet_no"] for r in sheets} == {1}
    # the loader sends WKB without an SRID: the column's typmod must have given it 4326
    srids = conn.execute(f'SELECT DISTINCT ST_SRID(geom) AS s, ST_SRID(geom_3857) AS m '
                         f'FROM data."{LAYER}"').fetchall()
    assert [(r["s"], r["m"]) for r in srids] == [(4326, 3857)]


def test_zipped_shapefile_and_missing_part(fresh_layer, conn, tmp_path):
    shp = write(parcel_frame(10), tmp_path / "src" / "thua.shp")
    archive = tmp_path / "thua.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in shp.parent.iterdir():
            z.write(part, f"giao_nop/{part.name}")
    load(archive)
    assert current(conn)["feature_count"] == 10

    shp.with_suffix(".dbf").unlink()
    proc = load(shp, check=False)
    assert proc.returncode != 0 and ".dbf part is missing" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert current(conn)["feature_count"] == 10  # nothing lost


def test_geopackage_with_two_layers_needs_source_layer(fresh_layer, conn, tmp_path):
    path = tmp_path / "two.gpkg"
    write(parcel_frame(5), path, layer="a")
    write(parcel_frame(7), path, layer="b", mode="a")
    proc = load(path, check=False)
    assert proc.returncode == 2 and "--source-layer" in proc.stderr and "a, b" in proc.stderr
    wrong = load(path, "--source-layer", "zzz", check=False)
    assert wrong.returncode == 2 and "no layer 'zzz'" in wrong.stderr
    load(path, "--source-layer", "b")
    assert current(conn)["feature_count"] == 7 and current(conn)["source_layer"] == "b"


def test_dxf_lines_need_source_crs(conn, tmp_path):
    """CAD drawings carry no CRS: refused without --source-crs, exact with it."""
    _reset(conn, "drainage_lines")
    wgs = shapely.linestrings([[[105.78, 10.03], [105.781, 10.031]],
                               [[105.79, 10.04], [105.792, 10.041]]])
    planar = transform_geometries(wgs, from_wgs84("vn2000-cantho"))
    import geopandas as gpd

    path = tmp_path / "thoat_nuoc.dxf"
    gpd.GeoDataFrame({"Layer": ["CONG_TRON", "MUONG"]}, geometry=list(planar)).to_file(
        path, driver="DXF")
    refused = run_gis("load", str(path), "--layer", "drainage_lines")
    assert refused.returncode == 2 and "--source-crs" in refused.stderr
    run_gis("load", str(path), "--layer", "drainage_lines", "--source-crs", "vn2000-cantho",
            "--map", "EntityHandle=line_code", "--map", "Layer=line_type", check=True)
    rows = conn.execute("SELECT ST_AsText(ST_StartPoint(ST_GeometryN(geom, 1))) AS p, "
                        "line_type FROM data.drainage_lines ORDER BY fid").fetchall()
    assert [r["line_type"] for r in rows] == ["CONG_TRON", "MUONG"]
    start = shapely.from_wkt(rows[0]["p"])
    assert abs(start.x - 105.78) < 1e-8 and abs(start.y - 10.03) < 1e-8
    _reset(conn, "drainage_lines")


# -- CRS --------------------------------------------------------------------------------
@pytest.mark.parametrize("zone,epsg", [("vn2000-cantho", 5897), ("vn2000-soctrang", 9209),
                                       ("vn2000-utm48", 3405)])
def test_each_vn2000_zone_goes_through_epsg_6960(zone, epsg, fresh_layer, conn, tmp_path):
    path = write(parcel_frame(20, crs=zone, epsg=epsg), tmp_path / f"{zone}.shp")
    load(path)
    row = current(conn)
    assert "6960" in row["operation"] and "+proj=helmert" in row["pipeline"]
    assert "coordinate_frame" in row["pipeline"]
    np.testing.assert_allclose(centroids(conn), expected_centroids(20), atol=1e-8)


def test_no_crs_is_refused_unless_given(fresh_layer, conn, tmp_path):
    path = write(parcel_frame(10), tmp_path / "p.shp")
    path.with_suffix(".prj").unlink()
    proc = load(path, check=False)
    assert proc.returncode == 2 and "no coordinate reference system" in proc.stderr
    assert current(conn) is None
    load(path, "--source-crs", "vn2000-cantho")
    np.testing.assert_allclose(centroids(conn), expected_centroids(10), atol=1e-8)


def test_unknown_crs_is_a_clear_error(fresh_layer, conn, tmp_path):
    path = write(parcel_frame(5), tmp_path / "p.shp")
    proc = load(path, "--source-crs", "vn2000-hanoi-xyz", check=False)
    assert proc.returncode == 2 and "vn2000-hanoi-xyz" in proc.stderr
    assert "Traceback" not in proc.stderr and current(conn) is None


@pytest.fixture(scope="module")
def wards_loaded(own_database):
    """The real 2025 ward polygons as the admin_units layer (reference for plausibility)."""
    run_gis("load", str(SHARED_DATA / "cantho-wards-2025.geojson"), "--layer", "admin_units",
            check=True)
    import geopandas as gpd

    return gpd.read_file(SHARED_DATA / "cantho-wards-2025.geojson")


def ward_codes(wards, geoms) -> np.ndarray:
    """The real ward code of each parcel, as a cadastral delivery carries it."""
    tree = shapely.STRtree(np.array(wards.geometry))
    parcel, ward = tree.query(shapely.centroid(geoms), predicate="within")
    codes = np.full(len(geoms), "00000", dtype=object)
    codes[parcel] = wards["id"].astype(str).to_numpy()[ward]
    return codes


@pytest.mark.parametrize("true_zone,declared_epsg,cause", [
    ("vn2000-soctrang", 5897, "zone"),  # Sóc Trăng TM-3 105°30' data with a 105°00' .prj
    ("vn2000-utm48", 5897, "utm"),  # national UTM 48N data with a TM-3 .prj: ~333 m off
])
def test_zone_mixups_inside_the_city_are_caught_by_the_wards(
        true_zone, declared_epsg, cause, wards_loaded, fresh_layer, conn, tmp_path):
    """Both mistakes still land inside the merged city, so only the ward check sees them."""
    origin = (105.97, 9.60) if "soctrang" in true_zone else (105.765, 10.025)
    geoms = parcel_boxes(400, origin=origin, cols=20)
    gdf = parcel_frame(400, crs=true_zone, epsg=declared_epsg, geoms=geoms)
    gdf["MaXa"] = ward_codes(wards_loaded, geoms)
    path = write(gdf, tmp_path / "mixup.shp")
    proc = load(path, check=False)
    err = " ".join(proc.stderr.split())
    assert proc.returncode == 2, proc.stdout
    assert current(conn) is None
    assert cause in err.lower() and f"--source-crs {true_zone}" in err
    load(path, "--source-crs", true_zone)
    np.testing.assert_allclose(centroids(conn), expected_centroids(400, origin, 20), atol=1e-8)


def test_swapped_axes_refused(fresh_layer, conn, tmp_path):
    planar = transform_geometries(parcel_boxes(10), from_wgs84("vn2000-cantho"))
    swapped = shapely.transform(planar, lambda c: c[:, ::-1])
    path = write(parcel_frame(10, geoms=parcel_boxes(10)).set_geometry(list(swapped)),
                 tmp_path / "swap.shp")
    proc = load(path, check=False)
    assert proc.returncode == 2 and "swap" in proc.stderr.lower()
    assert current(conn) is None


# -- geometry ---------------------------------------------------------------------------
def test_invalid_geometries_repaired_empties_and_rejects_reported(fresh_layer, conn, tmp_path):
    geoms = list(parcel_boxes(200))
    x, y = 105.80, 10.05
    geoms[3] = shapely.Polygon([(x, y), (x + 3e-4, y + 2e-4), (x + 3e-4, y), (x, y + 2e-4)])
    geoms[7] = None
    geoms[9] = shapely.LineString([(x, y), (x + 1e-4, y)])  # not a polygon
    gdf = parcel_frame(200, geoms=[g if g is not None else shapely.Point(x, y) for g in geoms])
    gdf.loc[7, "geometry"] = None
    path = write(gdf, tmp_path / "bad.gpkg", geometry_type="Unknown")
    proc = load(path, check=False)
    # The null (row 8) and the line (row 10) are rejects: 1 %, the layer's limit.
    assert proc.returncode == 0, proc.stderr
    row = current(conn)
    assert row["count_read"] == 200
    assert row["count_repaired"] == 1 and row["count_empty"] == 1
    assert row["count_rejected"] == 2 and [r["row"] for r in row["rejects"]] == [8, 10]
    assert row["feature_count"] == 198
    valid = conn.execute(f'SELECT bool_and(ST_IsValid(geom)) AS ok, '
                         f"min(ST_NumGeometries(geom)) AS n FROM data.\"{LAYER}\"").fetchone()
    assert valid["ok"]
    bowtie = conn.execute(f'SELECT ST_NumGeometries(geom) AS n, ST_GeometryType(geom) AS t '
                          f'FROM data."{LAYER}" WHERE source_row = 4').fetchone()
    assert bowtie["n"] == 2 and bowtie["t"] == "ST_MultiPolygon"
    assert "row 8: no geometry" in proc.stdout and "row 10" in proc.stdout


def test_too_many_rejects_refuse_the_load_and_keep_the_old(fresh_layer, conn, tmp_path):
    load(write(parcel_frame(50), tmp_path / "good.shp"))
    gdf = parcel_frame(50, start_sheet=10)
    gdf.loc[:5, "SoThua"] = None  # required parcel number missing in 6 rows
    proc = load(write(gdf, tmp_path / "bad.shp"), check=False)
    assert proc.returncode == 2
    assert "rejected" in proc.stderr and "Rejected rows: 1-6." in " ".join(proc.stderr.split())
    row = current(conn)
    assert row["version"] == 1 and row["feature_count"] == 50
    failed = conn.execute("SELECT status, message FROM spp.layer_versions WHERE layer_id = %s "
                          "AND version = 2", (LAYER,)).fetchone()
    assert failed["status"] == "failed" and "rejected" in failed["message"]


# -- schema -----------------------------------------------------------------------------
def test_aliases_types_codes_and_extra(fresh_layer, conn, tmp_path):
    gdf = parcel_frame(10)
    gdf = gdf.rename(columns={"SoTo": "SHBANDO", "SoThua": "SHTHUA", "DienTich": "DTPL",
                              "MucDich": "KHMDSD"})
    gdf["SHBANDO"] = gdf["SHBANDO"].astype(str)  # numbers delivered as text
    gdf.loc[0, "KHMDSD"] = "LUN"  # an older code (Circular 28/2014)
    gdf.loc[1, "KHMDSD"] = "ZZZ"  # not a land-use code
    load(write(gdf, tmp_path / "alias.shp"))
    rows = conn.execute(f'SELECT sheet_no, parcel_no, legal_area, land_use_code, '
                        f'land_use_code_codelist, extra, area_plane_m2, area_geodesic_m2 '
                        f'FROM data."{LAYER}" ORDER BY source_row').fetchall()
    assert rows[0]["sheet_no"] == 1 and isinstance(rows[0]["sheet_no"], int)
    assert rows[0]["land_use_code"] == "LUN"
    assert rows[0]["land_use_code_codelist"] in ("TT27/2018", "TT28/2014")  # an older list
    assert rows[1]["land_use_code"] == "ZZZ" and rows[1]["land_use_code_codelist"] is None
    assert rows[2]["land_use_code_codelist"] == "TT08/2024"
    assert rows[0]["extra"]["GhiChu"] == "ghi chú 0"
    for r in rows:  # DTPL was computed in the TM-3 plane: matches the plane area to 0.1 m²
        assert abs(r["legal_area"] - r["area_plane_m2"]) < 0.06
        assert abs(r["area_plane_m2"] - r["area_geodesic_m2"]) / r["area_plane_m2"] < 1e-3
    message = json.loads(current(conn)["message"])
    assert any("ZZZ" in k for k in message["warnings"])


def test_unknown_field_mapping_and_missing_required_field(fresh_layer, conn, tmp_path):
    path = write(parcel_frame(5), tmp_path / "p.shp")
    proc = load(path, "--map", "KhongCo=sheet_no", check=False)
    assert proc.returncode == 2 and "no field 'KhongCo'" in proc.stderr
    proc = load(path, "--map", "SoTo=khong_co", check=False)
    assert proc.returncode == 2 and "has no field 'khong_co'" in proc.stderr
    gdf = parcel_frame(5).drop(columns=["SoThua"])
    proc = load(write(gdf, tmp_path / "q.shp"), check=False)
    assert proc.returncode == 2 and "parcel_no" in proc.stderr and "--map" in proc.stderr
    gdf = gdf.rename(columns={"GhiChu": "STT_THUA"})
    gdf["STT_THUA"] = range(1, 6)
    load(write(gdf, tmp_path / "r.shp"), "--map", "STT_THUA=parcel_no")
    assert current(conn)["feature_count"] == 5


def test_wrong_layer_id_and_corrupt_file(fresh_layer, conn, tmp_path):
    path = write(parcel_frame(5), tmp_path / "p.shp")
    proc = run_gis("load", str(path), "--layer", "khong_co_lop")
    assert proc.returncode == 2 and "unknown layer id 'khong_co_lop'" in proc.stderr
    assert "cadastral_parcels" in proc.stderr
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"SQLite format 3\x00" + os.urandom(3000))
    proc = load(junk, check=False)
    assert proc.returncode == 2 and "junk.gpkg" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = load(tmp_path / "missing.shp", check=False)
    assert proc.returncode == 2 and "no such file" in proc.stderr


# -- modes and versions -----------------------------------------------------------------
def test_modes_history_rollback_and_same_file(fresh_layer, conn, tmp_path):
    first = write(parcel_frame(30), tmp_path / "v1.shp")
    load(first)
    fids = {(r["sheet_no"], r["parcel_no"]): r["fid"] for r in conn.execute(
        f'SELECT fid, sheet_no, parcel_no FROM data."{LAYER}"')}

    again = load(first)
    assert "unchanged" in again.stdout and current(conn)["version"] == 1

    extra = write(parcel_frame(10, start_sheet=5,
                               geoms=parcel_boxes(10, origin=(105.79, 10.04))),
                  tmp_path / "more.shp")
    load(extra, "--mode", "append")
    assert current(conn)["feature_count"] == 40 and current(conn)["mode"] == "append"

    changed = parcel_frame(5)
    changed["MucDich"] = "SKC"
    load(write(changed, tmp_path / "upd.shp"), "--mode", "upsert")
    row = current(conn)
    assert row["version"] == 3 and row["feature_count"] == 40
    assert json.loads(row["message"])["changes"] == {
        "added": 0, "changed": 5, "removed": 0, "current": 40, "against": 2,
        "matched_by": "natural key (commune_code, sheet_no, parcel_no)", "allow_shrink": False,
        "allow_shift": False}
    first = json.loads(conn.execute("SELECT message FROM spp.layer_versions WHERE layer_id = "
                                    "%s AND version = 1", (LAYER,)).fetchone()["message"])
    assert first["changes"]["added"] == 30 and first["changes"]["against"] is None
    codes = conn.execute(f'SELECT fid, sheet_no, parcel_no, land_use_code FROM data."{LAYER}" '
                         f"WHERE sheet_no = 1 AND parcel_no <= 5 ORDER BY parcel_no").fetchall()
    assert all(r["land_use_code"] == "SKC" for r in codes)
    assert all(r["fid"] == fids[(1, r["parcel_no"])] for r in codes)  # stable feature ids

    # 3 of 40 parcels: a dry run reports the shrink refusal like a load would
    shrink = load(write(parcel_frame(3), tmp_path / "dry.shp"), "--dry-run", check=False)
    assert shrink.returncode == 2 and "--allow-shrink" in shrink.stderr
    dry = load(write(parcel_frame(3), tmp_path / "dry.shp"), "--dry-run", "--allow-shrink")
    assert "dry run" in dry.stdout and current(conn)["version"] == 3
    assert "-37 removed" in " ".join(dry.stdout.split())

    hist = run_gis("layer", "history", LAYER, env={"COLUMNS": "250"}, check=True).stdout
    for word in ("append", "upsert", "dry_run", "superseded", "current"):
        assert word in hist

    run_gis("layer", "rollback", LAYER, check=True)
    assert current(conn)["version"] == 2
    assert conn.execute(f'SELECT count(*) AS n FROM data."{LAYER}" WHERE land_use_code = '
                        f"'SKC'").fetchone()["n"] == 0
    run_gis("layer", "rollback", LAYER, "--to", "3", check=True)
    assert current(conn)["version"] == 3
    bad = run_gis("layer", "rollback", LAYER, "--to", "99")
    assert bad.returncode == 2 and "no version 99" in bad.stderr
    audit = conn.execute("SELECT action FROM spp.audit_log WHERE layer_id = %s ORDER BY id",
                         (LAYER,)).fetchall()
    assert [a["action"] for a in audit][-2:] == ["rollback", "rollback"]


def test_duplicate_natural_keys_are_rejected_with_rows(fresh_layer, conn, tmp_path):
    gdf = parcel_frame(120)
    gdf.loc[100, ["SoTo", "SoThua"]] = [1, 1]  # same key as row 1
    load(write(gdf, tmp_path / "dup.shp"))
    row = current(conn)
    assert row["feature_count"] == 119 and row["count_rejected"] == 1
    assert row["rejects"][0]["row"] == 101 and "row 1" in row["rejects"][0]["reason"]


def test_redelivery_keeps_ids_and_rejects_repeats_across_batches(fresh_layer, conn, tmp_path):
    """A re-delivery read in small batches: a key of the current version delivered twice, in
    different batches, and a new key delivered twice are both rejected naming the first row;
    every other parcel keeps its id and the new one gets one."""
    from gis.loader.load import LoadOptions
    from gis.loader.load import load as load_in_process
    from tests.conftest import _clear_caches

    load(write(parcel_frame(400), tmp_path / "v1.shp"))
    before = {(r["sheet_no"], r["parcel_no"]): r["fid"] for r in conn.execute(
        f'SELECT sheet_no, parcel_no, fid FROM data."{LAYER}"').fetchall()}
    gdf = parcel_frame(410)  # rows 401-410: sheet 5, parcels 1-10, new to the layer
    gdf.loc[300, ["SoTo", "SoThua"]] = [1, 5]  # row 301 repeats row 5 (a current key)
    gdf.loc[99, ["SoTo", "SoThua"]] = [5, 3]  # row 100 takes row 403's (new) key first
    gdf.loc[405, ["SoTo", "SoThua"]] = [5, 2]  # row 406 repeats row 402 (same batch)
    _clear_caches()  # this module's database for the in-process load
    result = load_in_process(write(gdf, tmp_path / "v2.shp"), LAYER,
                             LoadOptions(batch_size=40, force=True))
    why = "duplicate commune_code + sheet_no + parcel_no (same as row {}); kept the first"
    assert sorted(result.rejects) == [(301, why.format(5)), (403, why.format(100)),
                                      (406, why.format(402))]
    after = {(r["sheet_no"], r["parcel_no"]): r["fid"] for r in conn.execute(
        f'SELECT sheet_no, parcel_no, fid FROM data."{LAYER}"').fetchall()}
    assert len(after) == 407 and (1, 100) not in after and (4, 1) not in after
    kept = {k: v for k, v in after.items() if k in before}
    assert kept == {k: v for k, v in before.items() if k not in ((1, 100), (4, 1))}
    new = [v for k, v in after.items() if k not in before]
    assert len(new) == 9 and min(new) > max(before.values()) and len(set(new)) == 9


def served(conn, layer_id=LAYER) -> tuple:
    """What readers get: the current version and a digest of every row of the view."""
    version = conn.execute("SELECT current_version FROM spp.layers WHERE id = %s",
                           (layer_id,)).fetchone()["current_version"]
    digest = conn.execute(f"SELECT md5(string_agg(t::text, '|' ORDER BY fid)) AS h "
                          f'FROM data."{layer_id}" t').fetchone()["h"]
    return version, digest


def _big_load_in_progress(conn, tmp_path):
    """A second version (150 000 parcels) being loaded in a subprocess, caught while rows of
    it are inside PostgreSQL's COPY (so a loader committing per batch would be seen)."""
    load(write(parcel_frame(20), tmp_path / "v1.shp"))
    n = 150_000
    big = write(parcel_frame(n, geoms=parcel_boxes(n, cols=400, size_deg=(0.00005, 0.00004))),
                tmp_path / "big.shp")
    proc = subprocess.Popen([*GIS, "load", str(big), "--layer", LAYER], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    copied = 0
    while time.monotonic() < deadline and proc.poll() is None:
        row = conn.execute("SELECT max(tuples_processed) AS n FROM pg_stat_progress_copy "
                           "WHERE datname = current_database() AND command = 'COPY FROM'"
                           ).fetchone()
        copied = row["n"] or 0
        if copied > 0:
            break
        time.sleep(0.02)
    if proc.poll() is not None:
        raise AssertionError("the load finished before it could be interrupted")
    assert copied > 0, "no row reached the COPY within 180 s"
    return proc


def test_killed_load_leaves_previous_version_serving(fresh_layer, conn, tmp_path):
    proc = _big_load_in_progress(conn, tmp_path)
    before = served(conn)
    try:
        # readers meanwhile see the previous version, whole
        assert conn.execute(f'SELECT count(*) AS n FROM data."{LAYER}"').fetchone()["n"] == 20
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert served(conn) == before and before[0] == 1
    # the next load notices the interrupted one and works
    load(write(parcel_frame(25), tmp_path / "v3.shp"))
    statuses = {r["version"]: r["status"] for r in conn.execute(
        "SELECT version, status FROM spp.layer_versions WHERE layer_id = %s", (LAYER,))}
    assert statuses[2] == "failed" and statuses[3] == "current"
    leftovers = conn.execute("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'data' "
                             "AND tablename = %s", (f"{LAYER}__v2",)).fetchone()
    assert leftovers["n"] == 0


def test_pyogrio_reads_back_what_we_wrote(tmp_path):
    """Guard for the builders: the files really are in the declared CRS."""
    path = write(parcel_frame(3, crs="vn2000-soctrang", epsg=9209), tmp_path / "st.shp")
    assert pyogrio.read_info(path)["crs"] == "EPSG:9209"


def test_dgn_drawing_loads_with_source_crs_and_mapping(conn, tmp_path):
    """MicroStation DGN (v7) shapes: no CRS in the file, attributes are element properties
    (here the level carries the flood depth class, as CAD teams draw it)."""
    import geopandas as gpd

    _reset(conn, "flood_risk_zones")
    wgs = [shapely.box(105.78, 10.03, 105.79, 10.04), shapely.box(105.80, 10.05, 105.81, 10.06)]
    planar = transform_geometries(np.array(wgs), from_wgs84("vn2000-cantho"))
    path = tmp_path / "ngap.dgn"
    gpd.GeoDataFrame(geometry=list(planar)).to_file(path, driver="DGN")
    refused = run_gis("load", str(path), "--layer", "flood_risk_zones")
    assert refused.returncode == 2 and "--source-crs" in refused.stderr
    run_gis("load", str(path), "--layer", "flood_risk_zones", "--source-crs", "vn2000-cantho",
            "--map", "Level=depth_class", check=True)
    rows = conn.execute("SELECT depth_class, ST_XMin(geom) AS x0, ST_YMin(geom) AS y0 "
                        "FROM data.flood_risk_zones ORDER BY fid").fetchall()
    assert [r["depth_class"] for r in rows] == ["0", "0"]
    # DGN v7 stores integer master units: within 1 m of where the drawing put it
    assert abs(rows[1]["x0"] - 105.80) < 1e-5 and abs(rows[1]["y0"] - 10.05) < 1e-5
    _reset(conn, "flood_risk_zones")


def test_cp1258_text_in_a_shapefile_with_no_cpg(fresh_layer, conn, tmp_path):
    from gis.text import cp1258

    gdf = parcel_frame(6)
    names = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"] * 2
    gdf["TenChu"] = [cp1258.encode(n).decode("latin1") for n in names]
    path = write(gdf, tmp_path / "cp.shp", encoding="latin1")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    load(path)
    got = [r["owner_name"] for r in conn.execute(
        f'SELECT owner_name FROM data."{LAYER}" ORDER BY source_row')]
    assert got == names
    assert current(conn)["encodings"]["TenChu"]["encoding"] == "cp1258"


def test_ctrl_c_leaves_the_previous_version_and_says_so(fresh_layer, conn, tmp_path):
    proc = _big_load_in_progress(conn, tmp_path)
    before = served(conn)
    try:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "Interrupted" in err and "Traceback" not in err
    assert served(conn) == before and before[0] == 1
    assert current(conn)["version"] == 1
    assert conn.execute(f'SELECT count(*) AS n FROM data."{LAYER}"').fetchone()["n"] == 20
    failed = conn.execute("SELECT status, message FROM spp.layer_versions WHERE layer_id = %s "
                          "AND version = 2", (LAYER,)).fetchone()
    assert failed["status"] == "failed" and "interrupted" in failed["message"]
