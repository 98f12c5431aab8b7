"""A broken delivery never becomes the current layer.

Every case is made from the real sample set (`gis sample`): cut short at several points,
headers that lie, unreadable rows, coordinate system mix-ups, shrinking re-deliveries. Each
refusal exits non-zero, names the file and the rows (or the cause) and the fix, and leaves
the served layer byte for byte as it was."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import time
import zipfile
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely

from gis.crs import from_wgs84, to_wgs84, transform_geometries
from gis.demo import ensure_sample
from gis.versions import lock_key
from tests.conftest import GIS, ROOT, run_gis

PARCELS = "cadastral_parcels"
NINH_KIEU = "thua_dat_ninhkieu/thua_dat"
N_PARCELS = 1000

pytestmark = pytest.mark.usefixtures("own_database")


@pytest.fixture(scope="module")
def sample(own_database, session_dir) -> Path:
    """The sample set, with wards, Ninh Kiều parcels, hydrants and addresses loaded."""
    root = ensure_sample(session_dir / "bad-deliveries-sample", N_PARCELS)
    for rel, layer in (("ranh_gioi/don_vi_hanh_chinh.geojson", "admin_units"),
                       (NINH_KIEU + ".shp", PARCELS),
                       ("ha_tang/tru_cuu_hoa.geojson", "fire_hydrants"),
                       ("dia_chi/dia_chi.csv", "address_points")):
        run_gis("load", str(root / rel), "--layer", layer, check=True)
    return root


@pytest.fixture
def conn(own_conn):
    return own_conn


def served(conn, layer: str) -> tuple:
    """What readers get: the current version and a digest of every row of the view."""
    version = conn.execute("SELECT current_version FROM spp.layers WHERE id = %s",
                           (layer,)).fetchone()["current_version"]
    digest = conn.execute(f"SELECT md5(string_agg(t::text, '|' ORDER BY fid)) AS h, "
                          f'count(*) AS n FROM data."{layer}" t').fetchone()
    return version, digest["h"], digest["n"]


def refused(conn, path: Path, layer: str, *args: str) -> str:
    """Load `path`, expect a refusal with nothing changed; the message, on one line."""
    before = served(conn, layer)
    proc = run_gis("load", str(path), "--layer", layer, *args, env={"COLUMNS": "300"})
    message = " ".join(proc.stderr.split())
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "Nothing was changed" in message or "nothing was changed" in message
    assert served(conn, layer) == before
    return message


def rows_loaded(conn, where: str) -> int:
    return conn.execute(f"SELECT count(*) AS n FROM data.{PARCELS} WHERE {where}"
                        ).fetchone()["n"]


def shapefile_copy(sample: Path, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for part in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
        shutil.copy(sample / (NINH_KIEU + part), dest / ("thua_dat" + part))
    return dest / "thua_dat.shp"


def cut(path: Path, size: int) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(size)


def poke(path: Path, offset: int, fmt: str, value: int) -> None:
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(struct.pack(fmt, value))


FIX = "fresh export of the whole Shapefile"


# -- files that disagree with each other -------------------------------------------------
@pytest.mark.parametrize("share", [0.5, 0.9, 0.999])
def test_shp_cut_short(share, sample, conn, open_tmp):
    shp = shapefile_copy(sample, open_tmp)
    cut(shp, int(shp.stat().st_size * share))
    msg = refused(conn, shp, PARCELS)
    assert "thua_dat.shp" in msg and "cut short" in msg and FIX in msg
    assert f"of {N_PARCELS:,} (listed in thua_dat.shx)" in msg


def test_shp_cut_inside_its_header(sample, conn, open_tmp):
    shp = shapefile_copy(sample, open_tmp)
    cut(shp, 60)
    msg = refused(conn, shp, PARCELS)
    assert "thua_dat.shp" in msg and "not a Shapefile part" in msg and FIX in msg


@pytest.mark.parametrize("share", [0.33, 0.67, 0.999])
def test_dbf_cut_short(share, sample, conn, open_tmp):
    shp = shapefile_copy(sample, open_tmp)
    dbf = shp.with_suffix(".dbf")
    cut(dbf, int(dbf.stat().st_size * share))
    msg = refused(conn, shp, PARCELS)
    assert "thua_dat.dbf" in msg and "missing (cut short)" in msg and FIX in msg
    assert re.search(rf"rows? (\d+-)?{N_PARCELS} missing", msg)  # up to the last row


def test_shx_cut_short(sample, conn, open_tmp):
    shp = shapefile_copy(sample, open_tmp)
    shx = shp.with_suffix(".shx")
    cut(shx, 100 + 8 * 400)
    msg = refused(conn, shp, PARCELS)
    assert "thua_dat.shx" in msg and f"rows 401-{N_PARCELS} have no index record" in msg


def test_dbf_record_count_lies(sample, conn, open_tmp):
    shp = shapefile_copy(sample, open_tmp)
    poke(shp.with_suffix(".dbf"), 4, "<I", N_PARCELS // 2)
    msg = refused(conn, shp, PARCELS)
    assert "thua_dat.dbf" in msg and f"says {N_PARCELS // 2:,} records" in msg
    assert f"rows {N_PARCELS // 2 + 1}-{N_PARCELS} would be skipped" in msg


def test_shp_length_lies(sample, conn, open_tmp):
    shp = shapefile_copy(sample, open_tmp)
    size = shp.stat().st_size
    poke(shp, 24, ">i", size // 2 + 1000)  # file length in 16-bit words: claims more
    msg = refused(conn, shp, PARCELS)
    assert "thua_dat.shp" in msg and f"file has {size:,}" in msg and FIX in msg


def test_shx_and_dbf_from_different_exports(sample, conn, open_tmp):
    """A .dbf with one record fewer than the .shx indexes (both consistent on their own)."""
    raw = pyogrio.read_dataframe(sample / (NINH_KIEU + ".shp"), encoding="latin1")
    shp = shapefile_copy(sample, open_tmp)
    other = open_tmp / "other"
    other.mkdir()
    pyogrio.write_dataframe(raw.iloc[:-1], other / "thua_dat.shp", encoding="latin1")
    shutil.copy(other / "thua_dat.dbf", shp.with_suffix(".dbf"))
    msg = refused(conn, shp, PARCELS)
    assert f"indexes {N_PARCELS:,} shapes" in msg and f"row {N_PARCELS}" in msg


def test_zipped_shapefile_cut_short(sample, conn, open_tmp):
    shp = shapefile_copy(sample, open_tmp / "parts")
    cut(shp, shp.stat().st_size // 2)
    archive = open_tmp / "thua_dat.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in sorted(shp.parent.iterdir()):
            z.write(p, p.name)
    msg = refused(conn, archive, PARCELS)
    assert "thua_dat.shp" in msg and "cut short" in msg and FIX in msg


def test_folder_with_a_corrupt_shp(sample, conn, open_tmp):
    shp = shapefile_copy(sample, open_tmp / "folder")
    shp.write_bytes(bytes(range(256)) * 40)
    msg = refused(conn, shp.parent, PARCELS)
    assert "thua_dat.shp" in msg and "not a Shapefile part" in msg and FIX in msg
    assert "None" not in msg and "out of bounds" not in msg


# -- rows that cannot be read --------------------------------------------------------------
def test_shp_with_garbage_inside_its_records(sample, conn, open_tmp):
    """Headers intact, some shape records overwritten: those rows are rejects, by row."""
    shp = shapefile_copy(sample, open_tmp)
    with open(shp, "r+b") as fh:
        fh.seek(shp.stat().st_size // 2)
        fh.write(bytes(range(256)) * 8)
    msg = refused(conn, shp, PARCELS)
    assert "thua_dat.shp" in msg and "Rejected rows: " in msg and "Fix those rows" in msg


def test_geojson_cut_short(sample, conn, open_tmp):
    text = (sample / "ha_tang/tru_cuu_hoa.geojson").read_bytes()
    path = open_tmp / "tru_cuu_hoa.geojson"
    path.write_bytes(text[: len(text) // 2])
    msg = refused(conn, path, "fire_hydrants")
    assert "tru_cuu_hoa.geojson" in msg and "not corrupt" in msg


def test_geojson_with_unreadable_coordinates(sample, conn, open_tmp):
    data = json.loads((sample / "ha_tang/tru_cuu_hoa.geojson").read_text(encoding="utf-8"))
    for f in data["features"][1:51]:
        f["geometry"]["coordinates"] = ["abc", "def"]
    data["features"] = data["features"][:51]
    path = open_tmp / "tru_cuu_hoa.geojson"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    msg = refused(conn, path, "fire_hydrants")
    assert "tru_cuu_hoa.geojson" in msg and "50 of 51 features" in msg
    assert "Rejected rows: 2-51." in msg and "Fix those rows" in msg
    assert "no geometry (missing, empty or unreadable in the file) (rows 2-51)" in msg


@pytest.mark.parametrize("share", [0.05, 0.43])
def test_csv_with_text_in_coordinate_columns(share, sample, conn, open_tmp):
    lines = (sample / "dia_chi/dia_chi.csv").read_text(encoding="utf-8").splitlines()
    rng = np.random.default_rng(7)
    bad = sorted(rng.choice(np.arange(1, len(lines)), int(share * (len(lines) - 1)),
                            replace=False))
    for i in bad:  # the last two columns are X, Y
        head, _, _ = lines[i].rsplit(",", 2)
        lines[i] = f"{head},không rõ,N/A"
    path = open_tmp / "dia_chi.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    msg = refused(conn, path, "address_points")
    n_rows = len(lines) - 1
    assert "dia_chi.csv" in msg and f"{len(bad)} of {n_rows} features" in msg
    first = bad[0] + 1  # file line numbers: the header is line 1
    assert f"Rejected rows: {first}" in msg
    assert "coordinates 'không rõ', 'N/A' are not numbers (rows " in msg


# -- coordinate system mix-ups, caught against the previous version ------------------------
def _reprojected(sample: Path, dest: Path, true_crs: str, write_crs: str | None) -> Path:
    """Ninh Kiều parcels moved from their TM-3 plane to `write_crs`'s plane, attributes kept
    byte for byte; no .prj when write_crs is None."""
    df = pyogrio.read_dataframe(sample / (NINH_KIEU + ".shp"), encoding="latin1")
    wgs = transform_geometries(np.asarray(df.geometry.array), to_wgs84("vn2000-cantho"))
    df = df.set_geometry(list(transform_geometries(wgs, from_wgs84(true_crs))), crs=None)
    df.crs = write_crs
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / "thua_dat.shp"
    pyogrio.write_dataframe(df, path, encoding="latin1")
    shutil.copy(sample / (NINH_KIEU + ".cpg"), path.with_suffix(".cpg"))
    return path


@pytest.mark.parametrize("true_crs,declared", [
    ("vn2000-utm48", "vn2000-cantho"),  # UTM 48N file loaded as TM-3 105°00': ~335 m
    ("vn2000-cantho", "vn2000-utm48"),  # the opposite mistake
])
def test_utm_tm3_confusion_is_refused_naming_the_right_crs(true_crs, declared, sample, conn,
                                                            open_tmp):
    path = _reprojected(sample, open_tmp, true_crs, None)
    msg = refused(conn, path, PARCELS, "--source-crs", declared)
    assert "thua_dat.shp" in msg and f"--source-crs {true_crs}" in msg
    assert "utm" in msg.lower()


def test_a_misplaced_current_version_is_replaced_with_allow_shift(sample, conn, open_tmp):
    """The current version is the wrong one (a UTM file loaded as TM-3 before this check):
    the correct file is refused against it until --allow-shift says so."""
    before = served(conn, PARCELS)
    wrong = _reprojected(sample, open_tmp / "utm", "vn2000-utm48", None)
    run_gis("load", str(wrong), "--layer", PARCELS, "--source-crs", "vn2000-cantho",
            "--allow-shift", check=True)
    right = shapefile_copy(sample, open_tmp / "right")
    msg = refused(conn, right, PARCELS)
    assert "--allow-shift" in msg
    run_gis("load", str(right), "--layer", PARCELS, "--allow-shift", check=True)
    version, digest, count = served(conn, PARCELS)
    assert count == before[2]
    moved = conn.execute(
        f"SELECT max(ST_Distance(a.geom::geography, b.geom::geography)) AS m FROM "
        f'data."{PARCELS}" a JOIN data."{PARCELS}__v{before[0]}" b USING (commune_code, '
        f"sheet_no, parcel_no)").fetchone()["m"]
    assert moved < 1e-3  # back where the first version had them
    run_gis("layer", "rollback", PARCELS, "--to", str(before[0]), check=True)
    assert served(conn, PARCELS) == before


def test_wrong_zone_is_refused(sample, conn, open_tmp):
    path = _reprojected(sample, open_tmp, "vn2000-cantho", None)
    msg = refused(conn, path, PARCELS, "--source-crs", "vn2000-soctrang")
    assert "thua_dat.shp" in msg and "--source-crs vn2000-cantho" in msg


def test_missing_datum_shift_is_refused(sample, conn, open_tmp):
    """VN-2000 longitudes/latitudes delivered as if they were WGS 84 (≈225 m off)."""
    path = _reprojected(sample, open_tmp, "EPSG:4756", "EPSG:4326")
    msg = refused(conn, path, PARCELS)
    assert "thua_dat.shp" in msg and "--source-crs" in msg
    assert "datum" in msg.lower() or "vn-2000" in msg.lower() or "vn2000" in msg.lower()


def test_a_shift_no_crs_explains_is_refused(sample, conn, open_tmp):
    """Every parcel moved 40 m east (a bad edit): no other reading fits, still refused."""
    df = pyogrio.read_dataframe(sample / (NINH_KIEU + ".shp"), encoding="latin1")
    df = df.set_geometry([shapely.transform(g, lambda c: c + [40.0, 0.0])
                          for g in df.geometry.array], crs=df.crs)
    path = open_tmp / "thua_dat.shp"
    pyogrio.write_dataframe(df, path, encoding="latin1")
    shutil.copy(sample / (NINH_KIEU + ".cpg"), path.with_suffix(".cpg"))
    msg = refused(conn, path, PARCELS)
    assert "thua_dat.shp" in msg and "moved alike by 40.0 m" in msg
    assert "--source-crs" in msg and "checks.max_shift_m" in msg


def test_a_resurvey_of_some_parcels_still_loads(sample, conn, open_tmp):
    df = pyogrio.read_dataframe(sample / (NINH_KIEU + ".shp"), encoding="latin1")
    moved = df.geometry.array[:30]
    df.loc[:29, "geometry"] = [shapely.transform(g, lambda c: c + [12.0, -7.0])
                               for g in moved]
    path = open_tmp / "thua_dat.shp"
    pyogrio.write_dataframe(df, path, encoding="latin1")
    shutil.copy(sample / (NINH_KIEU + ".cpg"), path.with_suffix(".cpg"))
    before = served(conn, PARCELS)
    moved_loaded = rows_loaded(conn, "source_row <= 30")  # the sample has a few bad rows
    proc = run_gis("load", str(path), "--layer", PARCELS, env={"COLUMNS": "300"})
    assert proc.returncode == 0, proc.stderr
    assert f"+0 added, ~{moved_loaded} changed, -0 removed" in " ".join(proc.stdout.split())
    assert served(conn, PARCELS)[0] > before[0]
    run_gis("layer", "rollback", PARCELS, "--to", str(before[0]), check=True)
    assert served(conn, PARCELS) == before


# -- shrinking re-deliveries -----------------------------------------------------------------
def test_shrinking_redelivery_needs_allow_shrink(sample, conn, open_tmp):
    df = pyogrio.read_dataframe(sample / (NINH_KIEU + ".shp"), encoding="latin1")
    kept = int(N_PARCELS * 0.6)
    path = open_tmp / "thua_dat.shp"
    pyogrio.write_dataframe(df.iloc[:kept], path, encoding="latin1")
    shutil.copy(sample / (NINH_KIEU + ".cpg"), path.with_suffix(".cpg"))
    removed = rows_loaded(conn, f"source_row > {kept}")
    msg = refused(conn, path, PARCELS)
    assert f"would remove {removed:,} of the {served(conn, PARCELS)[2]:,} features" in msg
    assert "--allow-shrink" in msg and "--mode upsert" in msg and "thua_dat.shp" in msg

    before = served(conn, PARCELS)
    proc = run_gis("load", str(path), "--layer", PARCELS, "--allow-shrink",
                   env={"COLUMNS": "300"})
    assert proc.returncode == 0, proc.stderr
    assert f"+0 added, ~0 changed, -{removed:,} removed" in " ".join(proc.stdout.split())
    version, _, count = served(conn, PARCELS)
    assert version > before[0] and count == before[2] - removed
    lineage = conn.execute("SELECT message FROM spp.layer_versions WHERE layer_id = %s AND "
                           "version = %s", (PARCELS, version)).fetchone()["message"]
    changes = json.loads(lineage)["changes"]
    assert (changes["added"], changes["changed"], changes["removed"]) == (0, 0, removed)
    assert changes["allow_shrink"] is True
    history = run_gis("layer", "history", PARCELS, env={"COLUMNS": "300"}, check=True).stdout
    assert f"+0 ~0 -{removed}" in history
    run_gis("layer", "rollback", PARCELS, "--to", str(before[0]), check=True)
    assert served(conn, PARCELS) == before


# -- one load at a time, and saying so ------------------------------------------------------
def test_a_second_load_says_it_waits_for_the_first(sample, conn, open_tmp):
    data = json.loads((sample / "ha_tang/tru_cuu_hoa.geojson").read_text(encoding="utf-8"))
    data["features"][0]["properties"]["TinhTrang"] = "Đang sửa chữa"
    path = open_tmp / "tru_cuu_hoa.geojson"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    before = served(conn, "fire_hydrants")
    conn.execute("SELECT pg_advisory_lock(%s)", (lock_key("fire_hydrants"),))
    try:  # this session stands for the other load
        proc = subprocess.Popen([*GIS, "load", str(path), "--layer", "fire_hydrants"],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not conn.execute(
                "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND objid::bigint = %s", (lock_key("fire_hydrants"),)).fetchone():
            time.sleep(0.1)
        assert proc.poll() is None and served(conn, "fire_hydrants") == before
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key("fire_hydrants"),))
    out, err = proc.communicate(timeout=120)
    err = " ".join(err.split())
    assert proc.returncode == 0, err
    assert "Another load of layer 'fire_hydrants' is running" in err and "waiting" in err
    assert served(conn, "fire_hydrants")[0] > before[0]
    run_gis("layer", "rollback", "fire_hydrants", "--to", str(before[0]), check=True)


# -- retention: bad versions never push out the last good one ------------------------------
def test_rolled_back_versions_never_push_out_the_last_good_one(sample, conn, open_tmp):
    data = json.loads((sample / "ha_tang/tru_cuu_hoa.geojson").read_text(encoding="utf-8"))
    env = {"SPP_KEEP_VERSIONS": "5"}

    def load_variant(i: int) -> int:
        data["features"][0]["properties"]["TinhTrang"] = f"variant {i}"
        path = open_tmp / f"tru_cuu_hoa_{i}.geojson"
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        run_gis("load", str(path), "--layer", "fire_hydrants", env=env, check=True)
        return served(conn, "fire_hydrants")[0]

    good = load_variant(0)
    good_served = served(conn, "fire_hydrants")
    for i in range(1, 5):  # four bad loads, each rolled back (to the good one, not a bad one)
        load_variant(i)
        run_gis("layer", "rollback", "fire_hydrants", env=env, check=True)
        assert served(conn, "fire_hydrants") == good_served
    assert served(conn, "fire_hydrants") == good_served
    newest = load_variant(5)
    assert newest > good
    proc = run_gis("layer", "rollback", "fire_hydrants", "--to", str(good), env=env)
    assert proc.returncode == 0, proc.stderr
    assert served(conn, "fire_hydrants") == good_served
    kept = conn.execute("SELECT version, status FROM spp.layer_versions WHERE layer_id = "
                        "'fire_hydrants' AND table_name IS NOT NULL ORDER BY version"
                        ).fetchall()
    assert len(kept) <= 5 and newest in [r["version"] for r in kept]
