"""gis load-raster: exact EPSG:6960 warp (proved cell by cell, corners included, against
gis.crs and against PROJ's default EPSG:5194), nodata, COG layout and overviews, lineage,
versions and rollback, and the refusals of bad input."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.shutil
from pyproj import Transformer
from rasterio.transform import from_origin
from rio_cogeo.cogeo import cog_validate

from gis.crs import from_wgs84, to_wgs84
from gis.sample import rasters as sample
from tests.conftest import ROOT, run_gis
from tests.raster_fixtures import current_cog

pytest_plugins = ["tests.raster_fixtures"]

E0, N0, RES, SIZE = 584_000.0, 1_109_000.0, 5.0, 200  # a 1 km grid in Ninh Kiều, TM-3 105°00'


def _data_dir(session_dir: Path) -> Path:
    return session_dir / "data"


@pytest.fixture(scope="module")
def test_layers(session_dir):
    """A layers folder with one raster test layer (values in metres, bilinear warp)."""
    folder = session_dir / "raster_test_layers"
    folder.mkdir(mode=0o755, exist_ok=True)
    text = (ROOT / "layers" / "flood_depth_100y.yaml").read_text(encoding="utf-8")
    (folder / "test_grid.yaml").write_text(
        text.replace("id: flood_depth_100y", "id: test_grid")
        .replace("transparent_at_or_below: 0.0", "transparent_at_or_below: null")
        .replace("planning: {role: flood_depth}", ""),  # a test grid, no parcel's flood depth
        encoding="utf-8")
    return {"SPP_LAYERS_DIR": str(folder)}


def _write(path: Path, data: np.ndarray, crs, transform, nodata=None, driver="GTiff") -> Path:
    with rasterio.open(path, "w", driver=driver, width=data.shape[1], height=data.shape[0],
                       count=1, dtype=data.dtype, crs=crs, transform=transform,
                       nodata=nodata) as d:
        d.write(data, 1)
    return path


def _centres(ds, margin: int = 3):
    """lon, lat, row, col of the COG's cell centres (margin cells off each edge)."""
    cols, rows = np.meshgrid(np.arange(margin, ds.width - margin),
                             np.arange(margin, ds.height - margin))
    lon, lat = ds.transform * (cols + 0.5, rows + 0.5)
    return lon, lat, rows, cols


def _load_test(path: Path, env: dict, *extra: str):
    return run_gis("load-raster", str(path), "--layer", "test_grid", "--force", *extra, env=env)


def _cog_of(conn, session_dir) -> Path:
    return current_cog(conn, "test_grid", _data_dir(session_dir))


# -- exactness of the warp ------------------------------------------------------------------
@pytest.mark.parametrize("axis", ["easting", "northing"])
def test_warp_is_epsg_6960_cell_by_cell_and_at_the_corners(database_url, conn, session_dir,
                                                           test_layers, open_tmp, axis):
    """The delivered grid holds its own easting (or northing) minus an origin, so after the
    warp each COG cell holds the TM-3 position it was taken from (bilinear is exact on a
    linear field). That position must be the EPSG:6960 inverse of the cell's WGS 84 centre
    (< 1 cm, also next to the four corners) and 0.81 m away from PROJ's default."""
    cols, rows = np.meshgrid(np.arange(SIZE) + 0.5, np.arange(SIZE) + 0.5)
    field = (cols * RES) if axis == "easting" else (SIZE * RES - rows * RES)
    src = _write(open_tmp / f"{axis}.tif", field.astype("float32"), "EPSG:5897",
                 from_origin(E0, N0 + SIZE * RES, RES, RES))
    _load_test(src, test_layers).check_returncode()
    with rasterio.open(_cog_of(conn, session_dir)) as ds:
        data = ds.read(1)
        lon, lat, r, c = _centres(ds)
        got = data[r, c].astype(np.float64)
        ok = got != ds.nodata
        exact_e, exact_n = from_wgs84("vn2000-cantho").transform(lon, lat)
        exact = (exact_e - E0) if axis == "easting" else (exact_n - N0)
        inside = ok & (exact > 2 * RES) & (exact < (SIZE - 2) * RES)
        inside &= ((exact_n - N0) > 2 * RES) & ((exact_n - N0) < (SIZE - 2) * RES)
        inside &= ((exact_e - E0) > 2 * RES) & ((exact_e - E0) < (SIZE - 2) * RES)
        assert inside.sum() > 30_000
        err = np.abs(got - exact)[inside]
        assert err.max() < 0.01, f"max {err.max():.4f} m off EPSG:6960"
        # cells next to each corner of the source grid
        for ce, cn in ((E0, N0), (E0 + SIZE * RES, N0), (E0, N0 + SIZE * RES),
                       (E0 + SIZE * RES, N0 + SIZE * RES)):
            near = inside & (np.hypot(exact_e - ce, exact_n - cn) < 10 * RES)
            assert near.sum() >= 5
            assert np.abs(got - exact)[near].max() < 0.01
        # PROJ's default (what GDAL would do given only the two CRSs): EPSG:5194, 0.81 m off
        default = Transformer.from_crs("EPSG:4326", "EPSG:5897", always_xy=True)
        de, dn = default.transform(lon[inside], lat[inside])
        off = np.hypot(de - exact_e[inside], dn - exact_n[inside])
        assert 0.75 < np.median(off) < 0.87
        dflt = (de - E0) if axis == "easting" else (dn - N0)
        # the COG is not the default's: 5194 differs from 6960 by 0.81 m, mostly east-west
        assert np.abs(got[inside] - dflt).min() > (0.3 if axis == "easting" else 0.03)


def test_geographic_vn2000_source_keeps_its_axis_order(database_url, conn, session_dir,
                                                       test_layers, open_tmp):
    """EPSG:4756 is latitude first for GDAL: the pipeline gets an axis swap on both sides."""
    res, n = 0.0001, 150
    lon0, lat0 = 105.77, 10.04
    cols, rows = np.meshgrid(np.arange(n) + 0.5, np.arange(n) + 0.5)
    out = {}
    for name, field in (("lon", cols * res * 1e5), ("lat", (n - rows) * res * 1e5)):
        src = _write(open_tmp / f"g_{name}.tif", field.astype("float32"), "EPSG:4756",
                     from_origin(lon0, lat0 + n * res, res, res))
        _load_test(src, test_layers).check_returncode()
        with rasterio.open(_cog_of(conn, session_dir)) as ds:
            lon, lat, r, c = _centres(ds, margin=4)
            out[name] = ds.read(1)[r, c].astype(np.float64)
    vlon, vlat = to_wgs84("EPSG:4756").inverse.transform(lon, lat)
    exp_lon, exp_lat = (vlon - lon0) * 1e5, (vlat - lat0) * 1e5
    span = n * res * 1e5  # field units: 1e-5 degree; a cell is 10 units
    inside = (exp_lon > 30) & (exp_lon < span - 30) & (exp_lat > 30) & (exp_lat < span - 30)
    assert inside.sum() > 10_000
    # 1e-5 degree units: 0.01 unit is about 1 mm
    assert np.abs(out["lon"] - exp_lon)[inside].max() < 0.01
    assert np.abs(out["lat"] - exp_lat)[inside].max() < 0.01


# -- the sample flood grid: nodata, COG layout, lineage ----------------------------------
def test_flood_cog_layout_overviews_and_validity(raster_data, conn, session_dir):
    path = current_cog(conn, "flood_depth_100y", _data_dir(session_dir))
    assert path.name.startswith("v") and path.parent.name == "flood_depth_100y"
    valid, errors, _ = cog_validate(str(path), quiet=True)
    assert valid, errors
    with rasterio.open(path) as ds:
        assert ds.crs.to_epsg() == 4326
        assert ds.dtypes[0] == "float32" and ds.nodata == -9999
        assert ds.profile["tiled"] and ds.block_shapes[0] == (512, 512)
        assert ds.overviews(1), "no overviews"
        assert ds.overviews(1)[0] == 2
        assert ds.compression.name.lower() == "deflate"
        assert abs(ds.res[0] - 4.56e-5) < 2e-6  # about 5 m, like the source


def test_nodata_cells_stay_nodata(raster_data, conn, session_dir):
    """Rivers are nodata in the delivery: the COG cells taken from the middle of a river
    are nodata, those from dry or flooded land hold values (0 included)."""
    src_path = raster_data["flood_depth_100y"]
    with rasterio.open(src_path) as src:
        src_data = src.read(1)
        src_t = src.transform
    with rasterio.open(current_cog(conn, "flood_depth_100y", _data_dir(session_dir))) as ds:
        data = ds.read(1)
        lon, lat, r, c = _centres(ds, margin=2)
    e, n = from_wgs84("vn2000-cantho").transform(lon, lat)
    sc, sr = ~src_t * (e, n)
    in_src = (sc >= 2) & (sc < src_data.shape[1] - 2) & (sr >= 2) & (sr < src_data.shape[0] - 2)
    sci, sri = sc[in_src].astype(int), sr[in_src].astype(int)
    # a source cell whose 5x5 neighbourhood is all nodata / all data
    nod = src_data == -9999
    pad = np.pad(nod, 2, mode="edge")
    allnod = np.ones_like(nod)
    anynod = np.zeros_like(nod)
    for dr in range(5):
        for dc in range(5):
            win = pad[dr:dr + nod.shape[0], dc:dc + nod.shape[1]]
            allnod &= win
            anynod |= win
    got = data[r[in_src], c[in_src]]
    deep_water = allnod[sri, sci]
    land = ~anynod[sri, sci]
    assert deep_water.sum() > 1000 and land.sum() > 100_000
    assert np.all(got[deep_water] == -9999)
    assert np.all(got[land] != -9999)
    assert (got[land] == 0).sum() > 0, "dry cells (0 m) must stay 0, not nodata"


def test_lineage_is_recorded(raster_data, conn):
    row = conn.execute(
        "SELECT v.* FROM spp.layers l JOIN spp.layer_versions v ON v.layer_id = l.id AND "
        "v.version = l.current_version WHERE l.id = 'flood_depth_100y'").fetchone()
    src = raster_data["flood_depth_100y"]
    assert row["source_sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert row["source_bytes"] == src.stat().st_size
    assert row["status"] == "current" and row["mode"] == "replace"
    assert row["source_crs"] == "EPSG:5897" and row["source_format"] == "GTiff"
    assert row["operation"].startswith("EPSG:6960 via explicit pipeline")
    assert "+proj=helmert" in row["pipeline"] and "coordinate_frame" in row["pipeline"]
    info = row["raster"]
    assert info["source_size"] == [1400, 1400] and info["source_res"] == [5.0, 5.0]
    assert info["resampling"] == "bilinear" and info["overview_resampling"] == "average"
    assert info["cog_valid"] is True and info["overviews"]
    assert "+proj=axisswap" in info["gdal_coordinate_operation"]
    assert "-191.90441429" in info["gdal_coordinate_operation"]
    path = Path(row["raster_path"])
    assert path.as_posix() == f"rasters/flood_depth_100y/v{row['version']}.tif"


def test_ascii_grid_in_utm48_lands_on_its_cells(raster_data, conn, session_dir):
    """The DEM (ESRI ASCII grid, .prj in VN-2000 / UTM 48N): COG values equal the source cell
    at the UTM position obtained through EPSG:6960 (bilinear: within 5 cm on a smooth
    surface; the source is 50 m cells)."""
    with rasterio.open(raster_data["elevation_dem"]) as src:
        sdata, st = src.read(1), src.transform
    with rasterio.open(current_cog(conn, "elevation_dem", _data_dir(session_dir))) as ds:
        data = ds.read(1)
        lon, lat, r, c = _centres(ds, margin=3)
    e, n = from_wgs84("vn2000-utm48").transform(lon, lat)
    sc, sr = ~st * (e, n)
    # cell centres that fall within 2 m of a source cell centre: no interpolation
    near = (np.abs(sc - np.floor(sc) - 0.5) < 0.04) & (np.abs(sr - np.floor(sr) - 0.5) < 0.04)
    near &= (sc > 2) & (sc < sdata.shape[1] - 2) & (sr > 2) & (sr < sdata.shape[0] - 2)
    assert near.sum() > 20
    diff = np.abs(data[r[near], c[near]] - sdata[sr[near].astype(int), sc[near].astype(int)])
    assert diff.max() < 0.05, diff.max()
    row = conn.execute("SELECT v.* FROM spp.layers l JOIN spp.layer_versions v ON "
                       "v.layer_id = l.id AND v.version = l.current_version "
                       "WHERE l.id = 'elevation_dem'").fetchone()
    assert row["source_format"] == "AAIGrid" and "+k=0.9996" in row["pipeline"]
    assert row["operation"].startswith("EPSG:6960")


# -- versions ---------------------------------------------------------------------------------
def test_unchanged_force_history_and_rollback(raster_data, conn, session_dir):
    src = raster_data["flood_depth_10y"]

    def current():
        return conn.execute("SELECT current_version AS v FROM spp.layers WHERE id = "
                            "'flood_depth_10y'").fetchone()["v"]

    first = current()
    again = run_gis("load-raster", str(src), "--layer", "flood_depth_10y", check=True)
    assert "unchanged" in again.stdout and current() == first
    run_gis("load-raster", str(src), "--layer", "flood_depth_10y", "--force", check=True)
    second = current()
    assert second == first + 1
    data_dir = _data_dir(session_dir)
    assert (data_dir / f"rasters/flood_depth_10y/v{second}.tif").is_file()
    back = run_gis("raster", "rollback", "flood_depth_10y", check=True)
    assert f"v{first} is current again" in back.stdout and current() == first
    hist = run_gis("raster", "history", "flood_depth_10y", env={"COLUMNS": "250"}, check=True)
    assert "rolled_back" in hist.stdout and "current" in hist.stdout
    assert run_gis("layer", "history", "flood_depth_10y", check=True).returncode == 0
    fwd = run_gis("raster", "rollback", "flood_depth_10y", "--to", str(second), check=True)
    assert f"v{second} is current again" in fwd.stdout and current() == second
    bad = run_gis("raster", "rollback", "flood_depth_10y", "--to", "999")
    assert bad.returncode == 2 and "no version 999" in bad.stderr
    rows = conn.execute("SELECT action FROM spp.audit_log WHERE layer_id = 'flood_depth_10y' "
                        "AND action = 'rollback'").fetchall()
    assert len(rows) >= 2


def test_old_versions_are_pruned(database_url, conn, session_dir, test_layers, open_tmp):
    src = _write(open_tmp / "small.tif", np.ones((20, 20), "float32"), "EPSG:5897",
                 from_origin(E0, N0, RES, RES))
    env = {**test_layers, "SPP_KEEP_VERSIONS": "2"}
    for _ in range(3):
        _load_test(src, env).check_returncode()
    rows = conn.execute("SELECT version, raster_path FROM spp.layer_versions WHERE layer_id = "
                        "'test_grid' AND status IN ('current', 'superseded') ORDER BY version "
                        "DESC").fetchall()
    kept = [r for r in rows if r["raster_path"]]
    assert len(kept) == 2
    files = sorted(p.name for p in (_data_dir(session_dir) / "rasters/test_grid").glob("*.tif"))
    assert files == sorted(Path(r["raster_path"]).name for r in kept)


def test_rolled_back_raster_versions_never_push_out_the_good_one(database_url, conn,
                                                                 test_layers, open_tmp):
    env = {**test_layers, "SPP_KEEP_VERSIONS": "5"}

    def load(value: float) -> int:
        src = _write(open_tmp / f"g{value}.tif", np.full((20, 20), value, "float32"),
                     "EPSG:5897", from_origin(E0, N0, RES, RES))
        _load_test(src, env).check_returncode()
        return conn.execute("SELECT current_version AS v FROM spp.layers WHERE id = "
                            "'test_grid'").fetchone()["v"]

    good = load(1.0)
    for bad in range(2, 6):  # four bad loads, each rolled back (to the good one)
        load(float(bad))
        run_gis("raster", "rollback", "test_grid", env=env, check=True)
        assert conn.execute("SELECT current_version AS v FROM spp.layers WHERE id = "
                            "'test_grid'").fetchone()["v"] == good
    load(6.0)
    proc = run_gis("raster", "rollback", "test_grid", "--to", str(good), env=env)
    assert proc.returncode == 0, proc.stderr


# -- refusals ---------------------------------------------------------------------------------
def test_grid_without_crs_is_refused_until_named(database_url, test_layers, open_tmp):
    src = _write(open_tmp / "nocrs.tif", np.ones((20, 20), "float32"), None,
                 from_origin(E0, N0, RES, RES))
    bad = _load_test(src, test_layers)
    assert bad.returncode == 2
    assert "no CRS" in bad.stderr and "--source-crs vn2000-cantho" in bad.stderr
    good = _load_test(src, test_layers, "--source-crs", "vn2000-cantho")
    assert good.returncode == 0, good.stderr
    assert "EPSG:6960" in good.stdout


def test_corrupt_files_are_refused_and_change_nothing(database_url, conn, test_layers,
                                                      open_tmp):
    junk = open_tmp / "junk.tif"
    junk.write_bytes(b"II*\x00" + bytes(range(256)) * 4)
    bad = _load_test(junk, test_layers)
    assert bad.returncode == 2 and "cannot be read as a raster" in bad.stderr
    before = conn.execute("SELECT current_version FROM spp.layers WHERE id = 'test_grid'"
                          ).fetchone()["current_version"]
    # a GeoTIFF cut short: it opens, its data cannot be read
    whole = _write(open_tmp / "whole.tif", np.random.default_rng(1).random((400, 400))
                   .astype("float32"), "EPSG:5897", from_origin(E0, N0, RES, RES))
    cut = open_tmp / "cut.tif"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    bad = _load_test(cut, test_layers)
    assert bad.returncode == 2, bad.stderr
    assert "corrupt" in bad.stderr or "cannot be read" in bad.stderr
    after = conn.execute("SELECT current_version FROM spp.layers WHERE id = 'test_grid'"
                         ).fetchone()["current_version"]
    assert after == before


def test_wrong_layer_kind_id_and_bands_are_refused(raster_data, open_tmp):
    tif = raster_data["flood_depth_10y"]
    vec = run_gis("load-raster", str(tif), "--layer", "cadastral_parcels")
    assert vec.returncode == 2 and "vector layer" in vec.stderr and "gis load" in vec.stderr
    unknown = run_gis("load-raster", str(tif), "--layer", "flood_depth_1000y")
    assert unknown.returncode == 2 and "unknown layer id" in unknown.stderr
    rgb = run_gis("load-raster", str(raster_data["orthophoto"]), "--layer", "flood_depth_10y")
    assert rgb.returncode == 2 and "3 bands" in rgb.stderr
    back = run_gis("load", str(tif), "--layer", "flood_depth_10y")
    assert back.returncode != 0


def test_swapped_axes_land_outside_and_are_refused(database_url, test_layers, open_tmp):
    src = _write(open_tmp / "swapped.tif", np.ones((20, 20), "float32"), "EPSG:5897",
                 from_origin(1_109_275.0, 585_308.0, RES, RES))  # northing as easting
    bad = _load_test(src, test_layers)
    assert bad.returncode == 2 and "outside" in bad.stderr


def test_sample_rasters_are_deterministic(tmp_path):
    a = sample.write_flood(tmp_path / "a.tif", 100)
    b = sample.write_flood(tmp_path / "b.tif", 100)
    assert a.read_bytes() == b.read_bytes()
    d100, d10 = sample.flood_depth(100), sample.flood_depth(10)
    wet = d100 != sample.NODATA
    assert np.all(d100[wet] >= d10[wet])  # the rarer flood is deeper everywhere
    assert 0.3 < d100[wet].mean() < 1.0 and d100[wet].max() > 1.0


def test_jpeg2000_rgb_orthophoto_gets_an_alpha_band(raster_data, conn, session_dir, open_tmp):
    jp2 = open_tmp / "ortho.jp2"
    rasterio.shutil.copy(raster_data["orthophoto"], jp2, driver="JP2OpenJPEG",
                         QUALITY="100", REVERSIBLE="YES")
    run_gis("load-raster", str(jp2), "--layer", "orthophoto", check=True)
    row = conn.execute("SELECT v.source_format, v.raster FROM spp.layers l JOIN "
                       "spp.layer_versions v ON v.layer_id = l.id AND v.version = "
                       "l.current_version WHERE l.id = 'orthophoto'").fetchone()
    assert row["source_format"] == "JP2OpenJPEG" and row["raster"]["bands"] == 4
    with rasterio.open(current_cog(conn, "orthophoto", _data_dir(session_dir))) as ds:
        assert ds.count == 4 and ds.dtypes[0] == "uint8"
        alpha = ds.read(4)
        assert alpha.max() == 255 and alpha.min() == 0  # outside the photo: transparent
        assert cog_validate(str(ds.name), quiet=True)[0]
