"""gis sample: the synthetic delivery set is reproducible and every file is what it claims to be
(format, CRS, encoding, axis order, defects), checked the way a GIS user would check it."""

from __future__ import annotations

import csv
import json
import unicodedata
import warnings
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import CRS

from gis.crs import from_wgs84, to_wgs84, transform_geometries
from gis.layerdef import load_layer_defs
from gis.sample import write_sample
from gis.text import tcvn3, vni

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_WARDS = ROOT.parent / "shared" / "data" / "cantho-wards-2025.geojson"
N = 600
CANTHO_LON, CANTHO_LAT = (105.2, 106.3), (9.2, 10.35)
# Official 7 parameters in the position-vector convention (+towgs84), Decision 05/2007
TOWGS84_PV = [-191.90441429, -39.30318279, -111.45032835, 0.00928836, -0.01975479, 0.00427372,
              0.252906278]

PARCELS = "thua_dat_ninhkieu/thua_dat.shp"
PARCELS_ST = "thua_dat_soctrang/thua_dat_st.shp"
GPKG = "quy_hoach/quy_hoach_sdd.gpkg"
PIPES, DXF = "ha_tang/cap_nuoc.geojson", "ha_tang/thoat_nuoc.dxf"
LIGHTS, HYDRANTS = "ha_tang/den_duong.geojson", "ha_tang/tru_cuu_hoa.geojson"
CSV_PATH, ADMIN = "dia_chi/dia_chi.csv", "ranh_gioi/don_vi_hanh_chinh.geojson"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    a, b = tmp_path_factory.mktemp("sample_a"), tmp_path_factory.mktemp("sample_b")
    written = write_sample(a, parcels=N)
    write_sample(b, parcels=N)
    return a, b, written


@pytest.fixture(scope="module")
def out(runs) -> Path:
    return runs[0]


def _proj_params(prj: str) -> dict:
    with warnings.catch_warnings():  # to_dict goes through a PROJ string: fine for these checks
        warnings.simplefilter("ignore", UserWarning)
        return CRS.from_wkt(prj).to_dict()


def _raw(path: Path, **kw):
    return pyogrio.read_dataframe(path, encoding="latin1", **kw)


def _in_cantho(lon, lat) -> bool:
    lon, lat = np.asarray(lon), np.asarray(lat)
    return bool(((lon > CANTHO_LON[0]) & (lon < CANTHO_LON[1]) & (lat > CANTHO_LAT[0])
                 & (lat < CANTHO_LAT[1])).all())


def _present(geoms) -> np.ndarray:
    g = np.asarray(geoms)
    return g[~(shapely.is_missing(g) | shapely.is_empty(g))]


# -- reproducibility ----------------------------------------------------------------------
def test_same_seed_gives_identical_bytes(runs):
    a, b, written = runs
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert {f.suffix for f in files} >= {".shp", ".shx", ".dbf", ".prj", ".cpg", ".csv", ".gpkg",
                                         ".geojson", ".dxf", ".txt"}
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), f"{rel} differs between runs"
    assert set(written) >= {"thua_dat", "thua_dat_st", "quy_hoach", "dia_chi", "readme"}
    assert all(p.exists() for p in written.values())


def test_other_seed_gives_other_parcels(out, tmp_path):
    write_sample(tmp_path, parcels=N, seed=7)
    assert (tmp_path / PARCELS).with_suffix(".dbf").read_bytes() != \
        (out / PARCELS).with_suffix(".dbf").read_bytes()


def test_dbf_header_date_is_fixed_not_today(out):
    head = (out / PARCELS).with_suffix(".dbf").read_bytes()[:32]
    assert head[0] == 0x03
    assert (1900 + head[1], head[2], head[3]) == (2024, 5, 20)
    assert int.from_bytes(head[4:8], "little") == N


# -- cadastral parcels, Cần Thơ: TM-3 105°00', TCVN3 behind a lying .cpg ---------------------
def test_parcels_shapefile_crs_is_tm3_105_with_official_towgs84(out):
    info = pyogrio.read_info(out / PARCELS, encoding="latin1")
    assert info["driver"] == "ESRI Shapefile"
    assert info["features"] == N
    prj = (out / PARCELS).with_suffix(".prj").read_text()
    assert prj.startswith('PROJCS["') and "TOWGS84[" in prj  # ESRI WKT1 as ArcGIS users keep it
    params = _proj_params(prj)
    assert (params["proj"], params["lon_0"], params["k"], params["x_0"], params["y_0"]) == \
        ("tmerc", 105, 0.9999, 500000, 0)
    assert params["towgs84"] == TOWGS84_PV


def test_parcels_fields_and_counts(out):
    df = _raw(out / PARCELS, read_geometry=False)
    assert list(df.columns) == ["MaXa", "SoTo", "SoThua", "DienTich", "MucDich", "DiaChi",
                                "TenXa", "TenChu", "CCCD", "GhiChu"]
    assert df["CCCD"].str.fullmatch(r"\d{12}").mean() > 0.8  # public land has no owner ID
    assert df["MaXa"].str.fullmatch(r"31\d{3}").all()
    assert (df["SoTo"] > 0).all() and (df["SoThua"] > 0).all()
    assert df["MaXa"].nunique() >= 8
    assert {"31135", "31120", "31147", "31150"} <= set(df["MaXa"])  # central Cần Thơ wards


def test_parcels_text_is_tcvn3_and_the_cpg_lies(out):
    assert (out / PARCELS).with_suffix(".cpg").read_text().strip().upper() == "UTF-8"
    df = _raw(out / PARCELS, read_geometry=False)
    raw = {v.encode("latin1") for v in df["TenXa"]}
    assert tcvn3.encode("Phường Ninh Kiều") in raw
    assert tcvn3.encode("Phường Cái Khế") in raw
    # independent of gis.text: "Phường" in TCVN3 is P h 0xAD(ư) 0xEA(ờ) n g, "Xã" is X 0xB7
    assert all(r.startswith((b"Ph\xad\xeang ", b"X\xb7 ")) for r in raw)
    with pytest.raises(UnicodeDecodeError):
        b"".join(raw).decode("utf-8")
    names = [v.encode("latin1") for v in df["TenChu"]]
    assert sum(tcvn3.decode(n).startswith("Nguyễn ") for n in names) > 0.1 * N


def test_parcels_dbf_read_as_the_cpg_says_is_mojibake(out):
    df = pyogrio.read_dataframe(out / PARCELS, read_geometry=False, encoding="cp1252")
    assert not any("Phường" in v for v in df["TenXa"])


def test_parcels_land_in_cantho_and_in_their_ward(out):
    df = _raw(out / PARCELS)
    geoms = df.geometry.values
    xy = shapely.get_coordinates(geoms)  # every vertex, invalid rings included
    assert ((xy[:, 0] > 500_000) & (xy[:, 0] < 620_000)).all()  # TM-3 eastings
    assert ((xy[:, 1] > 1_090_000) & (xy[:, 1] < 1_150_000)).all()  # northings
    lon, lat = to_wgs84("vn2000-cantho").transform(xy[:, 0], xy[:, 1])
    assert _in_cantho(lon, lat)
    ok = shapely.is_valid(geoms)  # a bow-tie's centroid can be anywhere
    wgs = transform_geometries(shapely.centroid(geoms[ok]), to_wgs84("vn2000-cantho"))
    if REFERENCE_WARDS.exists():  # real ward polygons (tests only): MaXa matches the location
        ref = json.loads(REFERENCE_WARDS.read_text(encoding="utf-8"))
        polys = {str(f["properties"]["id"]): shapely.geometry.shape(f["geometry"])
                 for f in ref["features"]}
        inside = [polys[c].contains(p) for c, p in zip(df["MaXa"][ok], wgs, strict=True)]
        assert np.mean(inside) > 0.9


def test_parcels_shapes_area_and_defects(out):
    df = _raw(out / PARCELS)
    geoms = df.geometry.values
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    assert 1 <= missing.sum() <= 3  # a couple of null/empty geometries
    valid = ~missing & shapely.is_valid(geoms)
    n_invalid = (~missing & ~valid).sum()
    assert 1 <= n_invalid <= 0.01 * N  # about 0.5 % invalid rings
    reasons = {shapely.is_valid_reason(g).split("[")[0] for g in geoms[~missing & ~valid]}
    assert reasons & {"Self-intersection", "Ring Self-intersection"}
    # DienTich is the area in the TM-3 plane, to 0.1 m²
    area = shapely.area(geoms[valid])
    assert np.abs(area - df["DienTich"][valid].to_numpy()).max() <= 0.051
    assert 150 < np.median(area) < 3000
    # quadrilaterals of 10-40 m frontage and 15-80 m depth (with a little slack for the lean)
    rect = shapely.oriented_envelope(geoms[valid])
    coords = shapely.get_coordinates(rect).reshape(-1, 5, 2)
    sides = np.sort(np.stack([np.hypot(*(coords[:, 1] - coords[:, 0]).T),
                              np.hypot(*(coords[:, 2] - coords[:, 1]).T)], axis=1), axis=1)
    assert np.quantile(sides[:, 0], 0.02) >= 9.0 and np.quantile(sides[:, 1], 0.98) <= 90.0
    # duplicates of the natural key (commune + sheet + parcel)
    key = df[["MaXa", "SoTo", "SoThua"]]
    assert 1 <= key.duplicated().sum() <= 3


# -- cadastral parcels, Sóc Trăng: TM-3 105°30', VNI-Windows ---------------------------------
def test_soctrang_parcels_zone_vni_and_lying_cpg(out):
    info = pyogrio.read_info(out / PARCELS_ST, encoding="latin1")
    assert info["features"] == round(0.15 * N)
    params = _proj_params((out / PARCELS_ST).with_suffix(".prj").read_text())
    assert (params["lon_0"], params["k"], params["x_0"]) == (105.5, 0.9999, 500000)
    assert params["towgs84"] == TOWGS84_PV
    assert (out / PARCELS_ST).with_suffix(".cpg").read_text().strip() == "1252"
    df = _raw(out / PARCELS_ST)
    raw = {v.encode("latin1") for v in df["TenXa"]}
    assert vni.encode("Phường Sóc Trăng") in raw
    assert all(r.startswith(b"Ph\xf6\xf4\xf8ng ") for r in raw)  # "Phöôøng" (reference doc)
    as_cpg = pyogrio.read_dataframe(out / PARCELS_ST, read_geometry=False, encoding="cp1252")
    assert not any("Phường" in v for v in as_cpg["TenXa"])
    xy = shapely.get_coordinates(df.geometry.values)
    assert ((xy[:, 0] > 440_000) & (xy[:, 0] < 580_000)).all()  # eastings of the 105°30' zone
    lon, lat = to_wgs84("vn2000-soctrang").transform(xy[:, 0], xy[:, 1])
    assert _in_cantho(lon, lat)
    assert lat.max() < 9.9  # Sóc Trăng / Vị Thanh, not the old Cần Thơ city


# -- planning GeoPackage ------------------------------------------------------------------
def test_planning_gpkg_two_layers_in_utm48(out):
    layers = pyogrio.list_layers(out / GPKG)
    assert sorted(layers[:, 0]) == ["qh_phan_khu", "qh_sdd"]
    for name in ("qh_sdd", "qh_phan_khu"):
        info = pyogrio.read_info(out / GPKG, layer=name)
        assert info["driver"] == "GPKG"
        assert CRS(info["crs"]).to_epsg() == 3405
        assert info["features"] > 0
    zones = pyogrio.read_dataframe(out / GPKG, layer="qh_sdd")
    assert all(unicodedata.is_normalized("NFD", v) and not unicodedata.is_normalized("NFC", v)
               for v in zones["TenXa"])
    assert all(unicodedata.is_normalized("NFC", v) for v in zones["TenCongTrinh"])
    assert {"MaQH", "MaHT", "SoQD", "NgayQD"} <= set(zones.columns)
    lots = pyogrio.read_dataframe(out / GPKG, layer="qh_phan_khu")
    assert {"HSSDD", "MDXD", "ChieuCao", "SoQD", "NgayQD", "TenDoAn"} <= set(lots.columns)
    assert lots["MDXD"].between(0, 100).all() and (lots["HSSDD"] > 0).all()
    assert not lots.duplicated(["SoQD", "KyHieu"]).any()  # natural key of the lots


def test_plan_zones_cover_the_parcels(out):
    zones = pyogrio.read_dataframe(out / GPKG, layer="qh_sdd")
    z_wgs = transform_geometries(zones.geometry.values, to_wgs84("vn2000-utm48"))
    parcels = _raw(out / PARCELS).geometry.values
    p_wgs = transform_geometries(shapely.point_on_surface(parcels[shapely.is_valid(parcels)]),
                                 to_wgs84("vn2000-cantho"))
    covered = shapely.contains(shapely.union_all(z_wgs), p_wgs)
    assert covered.mean() > 0.98


# -- utilities ----------------------------------------------------------------------------
@pytest.mark.parametrize("rel,gtype", [(PIPES, "LineString"), (LIGHTS, "Point"),
                                       (HYDRANTS, "Point")])
def test_utility_geojson_is_crs84(out, rel, gtype):
    info = pyogrio.read_info(out / rel)
    assert info["driver"] == "GeoJSON" and info["geometry_type"] == gtype
    assert info["features"] > 0
    assert "CRS84" in json.loads((out / rel).read_text(encoding="utf-8"))["crs"]["properties"][
        "name"]
    df = pyogrio.read_dataframe(out / rel)
    xy = shapely.get_coordinates(df.geometry.values)
    assert _in_cantho(xy[:, 0], xy[:, 1])


def test_drainage_dxf_has_no_crs_and_tm3_coordinates(out):
    info = pyogrio.read_info(out / DXF)
    assert info["driver"] == "DXF" and info["crs"] is None
    df = pyogrio.read_dataframe(out / DXF)
    assert set(df["Layer"]) <= {"TN_CONG_TRON", "TN_CONG_HOP", "TN_MUONG_HO", "TN_RANH_XAY"}
    assert df["Layer"].nunique() >= 3
    assert set(shapely.get_type_id(df.geometry.values)) == {1}  # LineString
    xy = shapely.get_coordinates(df.geometry.values)
    assert (xy[:, 0] > 500_000).all() and (xy[:, 1] > 1_000_000).all()
    wgs = transform_geometries(df.geometry.values, to_wgs84("vn2000-cantho"))
    lonlat = shapely.get_coordinates(wgs)
    assert _in_cantho(lonlat[:, 0], lonlat[:, 1])
    assert df["EntityHandle"].is_unique


# -- addresses: northing first ------------------------------------------------------------
def test_address_csv_x_is_northing(out):
    with open(out / CSV_PATH, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) > 0.3 * N
    assert {"X", "Y", "MaDiaChi", "SoNha", "TenDuong", "PhuongXa", "PhuongCu"} <= set(rows[0])
    x = np.array([float(r["X"]) for r in rows])
    y = np.array([float(r["Y"]) for r in rows])
    assert ((x > 1_050_000) & (x < 1_150_000)).all()  # X ≈ 1 1xx xxx: northing
    assert ((y > 500_000) & (y < 650_000)).all()  # Y ≈ 5xx xxx: easting
    lon, lat = to_wgs84("vn2000-cantho").transform(y, x)  # (easting, northing)
    assert _in_cantho(lon, lat)
    assert len({r["MaDiaChi"] for r in rows}) == len(rows)
    assert any(r["PhuongXa"] == "Phường Ninh Kiều" for r in rows)
    # each point is on a parcel of the cadastral file (same plane, same axes)
    parcels = _present(_raw(out / PARCELS).geometry.values)
    tree = shapely.STRtree(parcels)
    _, dist = tree.query_nearest(shapely.points(y, x), return_distance=True)
    assert np.quantile(dist, 0.99) < 1.0


# -- administrative units -----------------------------------------------------------------
def test_admin_units_are_synthetic_voronoi_cells(out):
    info = pyogrio.read_info(out / ADMIN)
    assert info["driver"] == "GeoJSON"
    df = pyogrio.read_dataframe(out / ADMIN)
    assert len(df) == 103 and df["MaDVHC"].is_unique
    assert (df["Loai"] == "Phường").sum() == 31 and (df["Loai"] == "Xã").sum() == 72
    nk = df[df["MaDVHC"] == "31135"].iloc[0]
    assert nk["Ten"] == "Ninh Kiều" and nk["HuyenCu"] == "Quận Ninh Kiều"
    assert df["DuLieuMau"].all() and df["GhiChu"].str.contains("synthetic").all()
    geoms = df.geometry.values
    assert shapely.is_valid(geoms).all()
    total = shapely.area(geoms).sum()
    assert abs(shapely.area(shapely.union_all(geoms)) - total) < 1e-6 * total  # no overlaps
    xy = shapely.get_coordinates(geoms)
    assert _in_cantho(xy[:, 0], xy[:, 1])


# -- the files map onto the layer definitions ---------------------------------------------
def _targets(layer, columns: list[str]) -> dict[str, str | None]:
    names = {}
    for f in layer.fields:
        for alias in [f.name, *f.aliases]:
            names.setdefault(alias.lower(), f.name)
    return {c: names.get(c.lower()) for c in columns}


@pytest.mark.parametrize("rel,layer_id,source_layer,unmapped", [
    (PARCELS, "cadastral_parcels", None, {"GhiChu"}),
    (PARCELS_ST, "cadastral_parcels", None, {"GhiChu"}),
    (GPKG, "land_use_plan_zones", "qh_sdd", set()),
    (GPKG, "construction_plan_zones", "qh_phan_khu", set()),
    (PIPES, "water_pipes", None, set()),
    (LIGHTS, "street_lights", None, set()),
    (HYDRANTS, "fire_hydrants", None, set()),
    (ADMIN, "admin_units", None, {"DuLieuMau", "GhiChu"}),
])
def test_source_fields_map_to_the_layer(out, rel, layer_id, source_layer, unmapped):
    layer = load_layer_defs(ROOT / "layers")[layer_id]
    columns = list(pyogrio.read_info(out / rel, layer=source_layer, encoding="latin1")["fields"])
    mapping = _targets(layer, columns)
    assert {c for c, t in mapping.items() if t is None} == unmapped
    targets = [t for t in mapping.values() if t]
    assert len(targets) == len(set(targets))
    required = {f.name for f in layer.fields if f.required}
    assert required <= set(targets)
    assert set(layer.natural_key) <= set(targets)


def test_address_csv_fields_map_to_the_layer(out):
    layer = load_layer_defs(ROOT / "layers")["address_points"]
    with open(out / CSV_PATH, encoding="utf-8") as fh:
        header = fh.readline().strip().split(",")
    mapping = _targets(layer, [c for c in header if c not in ("X", "Y")])
    assert all(mapping.values()), mapping
    assert (layer.source.x_field, layer.source.y_field, layer.source.axis_order) == \
        ("X", "Y", "yx")


# -- README and CLI -----------------------------------------------------------------------
def test_readme_lists_every_file_with_its_load_command(out):
    text = (out / "README.txt").read_text(encoding="utf-8")
    for rel in (PARCELS, PARCELS_ST, GPKG, PIPES, DXF, LIGHTS, HYDRANTS, CSV_PATH, ADMIN):
        assert rel in text
        assert f"gis load {rel} --layer " in text
    assert "--source-layer qh_sdd" in text and "--source-layer qh_phan_khu" in text
    assert "--source-crs vn2000-cantho" in text
    assert "EPSG:5897" in text and "EPSG:9209" in text and "EPSG:3405" in text
    assert "TCVN3" in text and "VNI" in text


def test_cli_sample_command(tmp_path):
    from typer.testing import CliRunner

    from gis.cli import app

    result = CliRunner().invoke(app, ["sample", str(tmp_path / "set"), "--parcels", "40",
                                      "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "thua_dat.shp" in result.output and "README.txt" in result.output
    assert pyogrio.read_info(tmp_path / "set" / PARCELS, encoding="latin1")["features"] == 40
    bad = CliRunner().invoke(app, ["sample", str(tmp_path / "bad"), "--parcels", "5"])
    assert bad.exit_code == 2


# -- the whole city: every vector layer, real names, consistent geometry -------------------
CITY_FILES = [  # file, layer, fields the layer does not keep
    ("thuy_he/song_kenh.shp", "waterways", set()),
    ("thuy_he/mat_nuoc.shp", "water_surfaces", set()),
    ("giao_thong/duong.shp", "roads", set()),
    ("nha/nha.shp", "buildings", set()),
    ("dia_danh/dia_danh.shp", "place_names", set()),
    ("cay_xanh/cay_xanh.shp", "trees", set()),
    ("vien_thong/tuyen_cap.shp", "telecom_lines", set()),
    ("vien_thong/cot_vien_thong.shp", "telecom_poles", set()),
    ("dien_luc/duong_day.shp", "power_lines", set()),
    ("hien_trang_sdd/khoanh_dat.shp", "land_use_current", set()),
    ("ngap_lut/vung_nguy_co_ngap.shp", "flood_risk_zones", set()),
    ("bao_tro_xa_hoi/co_so_btxh.shp", "social_welfare_facilities", set()),
    ("dau_tu/du_an_keu_goi_dau_tu.gpkg", "investment_projects", set()),
    ("ngap_lut/diem_ngap_trieu_cuong.geojson", "flood_observations", set()),
]


def test_every_layer_has_a_sample_file_the_demo_loads(out):
    """The manifest (what `gis demo` loads) covers every vector and raster layer file, names
    files that exist, and says what the README tells GIS staff to type."""
    from gis.sample.manifest import read_manifest

    defs = load_layer_defs(ROOT / "layers")
    loads = read_manifest(out)
    assert set(defs) <= {ld.layer for ld in loads}, sorted(set(defs) - {ld.layer for ld in loads})
    text = (out / "README.txt").read_text(encoding="utf-8")
    for ld in loads:
        assert (out / ld.file).exists(), ld.file
        assert ld.raster == (defs[ld.layer].kind == "raster"), ld
        assert ld.command() in text
    assert text.count("gis load") == len(loads)


def test_demo_loads_layers_others_are_checked_against_first(out):
    """Wards first: they are the reference the parcels' and addresses' commune codes are held
    against; a replace before its append; derived from the layer files, not a list."""
    from gis.demo import load_order
    from gis.sample.manifest import read_manifest

    order = [(ld.layer, ld.options.get("mode", "replace"))
             for ld in load_order(read_manifest(out), load_layer_defs(ROOT / "layers"))]
    layers = [layer for layer, _ in order]
    assert layers[0] == "admin_units"
    for dependant in ("cadastral_parcels", "address_points", "land_use_plan_zones"):
        assert layers.index(dependant) > layers.index("admin_units")
    assert order.index(("cadastral_parcels", "replace")) < \
        order.index(("cadastral_parcels", "append"))


@pytest.mark.parametrize("rel,layer_id,unmapped", CITY_FILES)
def test_city_files_map_to_their_layer(out, rel, layer_id, unmapped):
    layer = load_layer_defs(ROOT / "layers")[layer_id]
    info = pyogrio.read_info(out / rel, encoding="latin1")
    assert info["features"] > 0
    assert _geom_family(info["geometry_type"]) == _geom_family(layer.geometry)
    mapping = _targets(layer, list(info["fields"]))
    assert {c for c, t in mapping.items() if t is None} == unmapped
    targets = [t for t in mapping.values() if t]
    assert len(targets) == len(set(targets))
    assert {f.name for f in layer.fields if f.required} <= set(targets)
    assert set(layer.natural_key) <= set(targets)
    if rel.endswith(".shp"):
        crs = CRS.from_wkt((out / rel).with_suffix(".prj").read_text())
        assert _proj_params(crs.to_wkt())  # an ESRI .prj a GIS reads
        assert crs.to_dict()["lon_0"] == 105 and crs.to_dict()["k"] == 0.9999


def _geom_family(name: str) -> str:
    name = name.lower().replace("multi", "")
    return {"polygon": "polygon", "linestring": "line", "point": "point"}[name]


def test_city_dbfs_are_in_the_departments_encodings(out):
    from gis.text import cp1258

    roads = (out / "giao_thong" / "duong.dbf").read_bytes()
    assert cp1258.encode("Đường 3 Tháng 2") in roads and "Đường".encode() not in roads
    assert (out / "giao_thong" / "duong.cpg").read_text() == "1258"
    rivers = (out / "thuy_he" / "song_kenh.dbf").read_bytes()
    assert tcvn3.encode("Sông Hậu") in rivers and not (out / "thuy_he" / "song_kenh.cpg").exists()
    trees = (out / "cay_xanh" / "cay_xanh.dbf").read_bytes()
    assert (out / "cay_xanh" / "cay_xanh.cpg").read_text() == "UTF-8"  # and it lies
    assert tcvn3.encode("Sao đen") in trees or tcvn3.encode("Dầu rái") in trees
    places = pyogrio.read_dataframe(out / "dia_danh" / "dia_danh.shp")  # honest UTF-8
    assert {"Ninh Kiều", "Cái Răng", "Sông Hậu"} <= set(places["diaDanh"])


def test_wards_are_the_real_2025_list(out):
    from gis.sample.wards import WARDS

    assert len(WARDS) == 103 and all(unicodedata.is_normalized("NFC", w.name) for w in WARDS)
    df = pyogrio.read_dataframe(out / ADMIN)
    assert set(df["Ten"]) == {w.name for w in WARDS}
    if REFERENCE_WARDS.exists():
        ref = json.loads(REFERENCE_WARDS.read_text(encoding="utf-8"))["features"]
        real = {str(f["properties"]["id"]): (unicodedata.normalize(
            "NFC", f["properties"]["name"]), f["properties"]["type"]) for f in ref}
        assert real == {w.code: (w.name, w.type) for w in WARDS}


def _valid_parcels(out: Path) -> np.ndarray:
    parcels = np.asarray(_raw(out / PARCELS).geometry.to_numpy(), dtype=object)
    present = np.array([g is not None and not g.is_empty for g in parcels])
    parcels = parcels[present]
    return parcels[shapely.is_valid(parcels)]


def test_buildings_stand_inside_their_parcels(out):
    parcels = _valid_parcels(out)
    buildings = _raw(out / "nha" / "nha.shp")
    geoms = buildings.geometry.to_numpy()
    tree = shapely.STRtree(parcels)
    inside = tree.query(geoms, predicate="within")
    assert len(np.unique(inside[0])) == len(geoms)  # every footprint within a parcel
    floors = buildings["soTang"].to_numpy()
    assert floors.min() >= 1 and floors.max() >= 5


def test_hydrants_trees_and_poles_line_the_roads(out):
    roads = _raw(out / "giao_thong" / "duong.shp").geometry.to_numpy()
    tree = shapely.STRtree(roads)
    for rel in ("cay_xanh/cay_xanh.shp", "vien_thong/cot_vien_thong.shp"):
        pts = _raw(out / rel).geometry.to_numpy()
        _, dist = tree.query_nearest(pts, return_distance=True)
        assert dist.max() < 20, rel
    hyd = pyogrio.read_dataframe(out / HYDRANTS).geometry.to_numpy()
    hyd = transform_geometries(hyd, from_wgs84("vn2000-cantho"))
    _, dist = tree.query_nearest(hyd, return_distance=True)
    assert dist.max() < 20


def test_projects_cover_parcels_and_rivers_cross_the_city(out):
    parcels = _valid_parcels(out)
    projects = pyogrio.read_dataframe(out / "dau_tu" / "du_an_keu_goi_dau_tu.gpkg")
    assert projects.crs.to_epsg() == 5897
    on_blocks = projects[projects["MaDA"].str[-3:].astype(int) <= len(projects) - 4]
    hits = shapely.STRtree(parcels).query(on_blocks.geometry.to_numpy(), predicate="intersects")
    assert len(np.unique(hits[0])) == len(on_blocks)
    rivers = _raw(out / "thuy_he" / "song_kenh.shp")
    names = rivers["ten"].map(lambda t: tcvn3.decode(t.encode("latin1")))
    hau = rivers[names == "Sông Hậu"]
    assert hau["TenXa"].nunique() >= 10  # the Hậu runs along many wards
    assert shapely.length(hau.geometry.to_numpy()).sum() > 100_000


def test_city_scale_parcels_generate_fast(tmp_path):
    """A city-scale set in reasonable time (bench/bench_sample.py times 300 000)."""
    import time

    t0 = time.perf_counter()
    write_sample(tmp_path, parcels=30_000)
    took = time.perf_counter() - t0
    info = pyogrio.read_info(tmp_path / PARCELS, encoding="latin1")
    assert info["features"] == 30_000
    assert pyogrio.read_info(tmp_path / "nha" / "nha.shp", encoding="latin1")["features"] > 15_000
    assert took < 60, f"{took:.0f} s for 30 000 parcels"
