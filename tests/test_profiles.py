"""Delivery profiles: what departments really deliver loads through a named profile of the
layer file, with no source edits — and nothing a profile says lets a broken delivery through.

The fixtures are made at test time in their real formats: a MapInfo TAB written by GDAL's
MapInfo driver whose header says `!charset WindowsVietnamese` and whose CoordSys is the
Krassovsky ("Afgooye") TM 105° k=1 placeholder while the coordinates are VN-2000 TM-3 105°00',
with its names in Windows-1258 and a note column in TCVN3, and no unit-type column (the type
is the prefix of the name); an address CSV with a `PHUONG` column no alias names."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
import yaml
from pyproj import Geod

from gis.crs import from_wgs84, transform_geometries
from gis.sample.admin import unit_polygons
from gis.sample.wards import WARDS
from gis.text import cp1258, tcvn3
from tests.builders import write_mapinfo
from tests.conftest import ROOT, run_gis

pytestmark = pytest.mark.usefixtures("own_database")

ADMIN = "admin_units"
ADDRESSES = "address_points"
WIDE = {"COLUMNS": "1000"}  # one summary row a line
# four wards and four communes of the real 2025 list
PICK = [i for i, w in enumerate(WARDS) if w.type == "Phường"][:4] + \
       [i for i, w in enumerate(WARDS) if w.type == "Xã"][:4]
NOTE = "Đất ở tại đô thị; ranh giới tổng hợp"


def flat(text: str) -> str:
    return " ".join(text.split())


def ward_table(path: Path, picks=PICK, names: dict[int, str] | None = None,
               charset: str = "WindowsVietnamese", **columns) -> Path:
    """The department's MapInfo table: MA (code), TEN ("Phường An Bình", Windows-1258),
    GHICHU (TCVN3), DIENTICH; no type column."""
    names = names or {}
    wgs = unit_polygons()[picks]
    planar = transform_geometries(wgs, from_wgs84("vn2000-cantho"))
    frame = gpd.GeoDataFrame({
        "MA": [WARDS[i].code for i in picks],
        "TEN": [names.get(i, f"{WARDS[i].type} {WARDS[i].name}") for i in picks],
        "GHICHU": [NOTE] * len(picks),
        "DIENTICH": np.round(shapely.area(planar) / 1e6, 2),
        **columns,
    }, geometry=list(planar))
    return write_mapinfo(frame, path, {"TEN": cp1258.encode, "GHICHU": tcvn3.encode}, charset)


def load(path: Path, layer: str, *args: str, env: dict | None = None):
    return run_gis("load", str(path), "--layer", layer, *args, env={**WIDE, **(env or {})})


def rows(conn, layer: str, order: str = "fid") -> list[dict]:
    return conn.execute(f'SELECT * FROM data."{layer}" ORDER BY {order}').fetchall()


def served(conn, layer: str) -> tuple:
    row = conn.execute("SELECT current_version FROM spp.layers WHERE id = %s",
                       (layer,)).fetchone()
    digest = conn.execute(f'SELECT md5(string_agg(t::text, \'|\' ORDER BY fid)) AS h '
                          f'FROM data."{layer}" t').fetchone() if row and \
        row["current_version"] else None
    return (row and row["current_version"], digest and digest["h"])


@pytest.fixture
def conn(own_conn):
    return own_conn


@pytest.fixture
def layers_copy(tmp_path) -> Path:
    """A copy of layers/ to add profiles to (SPP_LAYERS_DIR)."""
    folder = tmp_path / "layers"
    shutil.copytree(ROOT / "layers", folder)
    return folder


def add_profile(folder: Path, layer: str, name: str, profile: dict) -> None:
    path = folder / f"{layer}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.setdefault("sources", {})[name] = profile
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")


# -- the MapInfo ward table, through the shipped profile ------------------------------------
def test_mapinfo_ward_table_loads_through_its_profile_with_no_source_edits(conn, open_tmp):
    tab = ward_table(open_tmp / "xa_phuong.tab")
    # Without the profile the table is refused before anything loads: no unit-type column.
    plain = load(tab, ADMIN)
    assert plain.returncode == 2 and "unit_type" in plain.stderr
    assert "Traceback" not in plain.stderr and "RuntimeWarning" not in plain.stderr

    proc = load(tab, ADMIN, "--profile", "snv_mapinfo")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    got = {r["code"]: r for r in rows(conn, ADMIN)}
    assert set(got) == {WARDS[i].code for i in PICK}
    for i in PICK:
        w, r = WARDS[i], got[WARDS[i].code]
        assert r["name"] == w.name  # the prefix taken off by the derived name
        assert r["unit_type"] == {"Phường": "phuong", "Xã": "xa"}[w.type]  # from the prefix
        assert r["province_code"] == "92"  # a constant of the profile
        # the TCVN3 note, decoded whatever the charset line says; kept unpublished
        assert r["extra"]["GHICHU"] == NOTE
    # VN-2000 through the official EPSG:6960, not the file's Krassovsky placeholder nor
    # PROJ's default 5194 (0.81 m): every ward lands where it is, within centimetres
    geod = Geod(ellps="WGS84")
    centroids = {r["code"]: shapely.from_wkb(bytes(r["c"])) for r in conn.execute(
        f'SELECT code, ST_AsBinary(ST_Centroid(geom)) AS c FROM data."{ADMIN}"')}
    for i, poly in zip(PICK, unit_polygons()[PICK], strict=True):
        c, expected = centroids[WARDS[i].code], poly.centroid
        assert geod.inv(c.x, c.y, expected.x, expected.y)[2] < 0.3
    # the summary: the profile, the file's CRS replaced, every source field accounted for,
    # the charset claim and GDAL's warning as one clean line in both languages
    assert "snv_mapinfo" in out
    assert "the file's own CRS (Afgooye, Krassovsky, Transverse Mercator 105° k=1) replaced" \
        in out
    assert re.search(r"MA\s+│\s+→ code \(profile snv_mapinfo\)", out)
    assert re.search(r"TEN\s+│\s+not mapped: kept unpublished in extra.*read by derived "
                     r"unit_type, name", out)
    assert re.search(r"GHICHU\s+│\s+not mapped: kept unpublished in extra", out)
    assert re.search(r"= unit_type\s+│\s+derived / suy ra: \"phuong\" if startswith", out)
    assert re.search(r"= province_code\s+│\s+constant / hằng số: '92'", out)
    assert "MapInfo charset WindowsVietnamese (cp1258): not trusted" in out
    assert re.search(r"text TEN\s+│\s+cp1258", out) and re.search(r"text GHICHU\s+│\s+tcvn3", out)
    gdal = [line for line in out.splitlines() if "charset WindowsVietnamese:" in line
            and "library" in line]
    assert len(gdal) == 1, out
    assert "GDAL không biết bảng mã MapInfo WindowsVietnamese" in gdal[0]
    assert "GDAL does not know the MapInfo charset WindowsVietnamese" in gdal[0]
    for raw in ("RuntimeWarning", "Warning 6", "warnings.warn", "Cannot find iconv"):
        assert raw not in proc.stdout + proc.stderr

    # Re-delivered next month with small changes: one unit renamed, one more unit; the
    # profile still applies and the summary reports what changed, matched by code.
    more = PICK + [next(i for i, w in enumerate(WARDS) if w.type == "Xã" and i not in PICK)]
    renamed = {PICK[1]: f"{WARDS[PICK[1]].type} {WARDS[PICK[1]].name} Mới"}
    again = load(ward_table(open_tmp / "next" / "xa_phuong.tab", more, renamed), ADMIN,
                 "--profile", "snv_mapinfo")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "+1 added, ~1 changed, -0 removed (by natural key (code))" in flat(again.stdout)
    now = {r["code"]: r for r in rows(conn, ADMIN)}
    assert now[WARDS[PICK[1]].code]["name"] == f"{WARDS[PICK[1]].name} Mới"
    history = run_gis("layer", "history", ADMIN, env=WIDE).stdout
    assert len(re.findall(r"xa_phuong\.tab \(profile snv_mapinfo\)", history)) == 2
    assert now[WARDS[PICK[1]].code]["fid"] == got[WARDS[PICK[1]].code]["fid"]  # same feature


def test_a_profile_lets_no_broken_ward_table_through(conn, open_tmp, layers_copy):
    ward_table(open_tmp / "ok" / "xa.tab")  # a good one first, so there is something to keep
    good = load(open_tmp / "ok" / "xa.tab", ADMIN, "--profile", "snv_mapinfo", "--allow-shrink")
    assert good.returncode == 0, good.stdout + good.stderr
    before = served(conn, ADMIN)

    # a name whose prefix the profile does not know ("Thị trấn" was abolished in 2025): the
    # derived type is empty, the row is rejected, and admin_units rejects no row
    odd = {PICK[2]: f"Thị trấn {WARDS[PICK[2]].name}"}
    proc = load(ward_table(open_tmp / "odd" / "xa.tab", names=odd), ADMIN, "--profile",
                "snv_mapinfo")
    assert proc.returncode == 2 and "Nothing was changed" in flat(proc.stderr)
    assert "unit_type (Loại đơn vị (phường/xã)) is empty but required" in flat(proc.stderr)
    assert served(conn, ADMIN) == before

    # a derived field producing a value that is no code of its code list: rejected
    add_profile(layers_copy, ADMIN, "bad_type", {
        "crs": "vn2000-cantho", "crs_overrides_file": True, "field_map": {"MA": "code"},
        "derived": {"unit_type": '"thi_tran" if startswith(TEN, "Phường") else "xa"',
                    "name": 'removeprefix(removeprefix(TEN, "Phường"), "Xã")'}})
    env = {"SPP_LAYERS_DIR": str(layers_copy)}
    proc = load(open_tmp / "ok" / "xa.tab", ADMIN, "--profile", "bad_type", "--force",
                env=env)
    assert proc.returncode == 2
    assert "unit_type: derived value 'thi_tran' is not a code of ward_type" in flat(proc.stderr)
    assert served(conn, ADMIN) == before

    # a profile naming the wrong zone for these files (and overriding their own CRS): the
    # position checks still apply — the wards would move 55 km, so nothing is loaded
    add_profile(layers_copy, ADMIN, "wrong_zone", {
        "crs": "vn2000-soctrang", "crs_overrides_file": True, "field_map": {"MA": "code"},
        "derived": {"unit_type": '"phuong" if startswith(TEN, "Phường") else "xa"',
                    "name": 'removeprefix(removeprefix(TEN, "Phường"), "Xã")'}})
    proc = load(open_tmp / "ok" / "xa.tab", ADMIN, "--profile", "wrong_zone", "--force",
                env=env)
    assert proc.returncode == 2 and "Nothing was changed" in flat(proc.stderr), proc.stderr
    assert "vn2000-cantho" in flat(proc.stderr)  # the CRS that fits is named
    assert served(conn, ADMIN) == before

    # a value map to a code that does not exist: the layer file itself is refused, with the
    # file and the line
    bad_map = layers_copy.parent / "bad_map"
    shutil.copytree(layers_copy, bad_map)
    add_profile(bad_map, ADMIN, "old_codes", {
        "field_map": {"MA": "code", "TEN": "name", "LOAI": "unit_type"},
        "value_maps": {"unit_type": {"P": "phuong", "TT": "thi_tran"}}})
    proc = load(open_tmp / "ok" / "xa.tab", ADMIN, "--profile", "old_codes",
                env={"SPP_LAYERS_DIR": str(bad_map)})
    assert proc.returncode == 2
    text = (bad_map / f"{ADMIN}.yaml").read_text(encoding="utf-8").splitlines()
    line = next(n for n, t in enumerate(text, 1) if t.strip().startswith("TT:"))
    assert re.search(rf"{ADMIN}\.yaml:{line}: sources\.old_codes\.value_maps\.unit_type\.TT: "
                     r"value map of unit_type: 'TT' -> 'thi_tran' is not a code of the code "
                     r"list 'ward_type'", flat(proc.stderr)), proc.stderr

    # a truncated table, through the profile: refused like any truncated delivery
    cut = open_tmp / "cut"
    shutil.copytree(open_tmp / "ok", cut)
    data = (cut / "xa.map").read_bytes()
    (cut / "xa.map").write_bytes(data[: len(data) // 3])
    proc = load(cut / "xa.tab", ADMIN, "--profile", "snv_mapinfo", "--force")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "RuntimeWarning" not in proc.stderr
    assert served(conn, ADMIN) == before

    # an unknown profile name says which ones there are
    proc = load(open_tmp / "ok" / "xa.tab", ADMIN, "--profile", "snv")
    assert proc.returncode == 2 and "Its profiles: snv_mapinfo" in flat(proc.stderr)


def test_value_maps_translate_old_codes_and_refuse_unknown_ones(conn, open_tmp, layers_copy):
    """A department's numeric unit types (1 = phường, 2 = xã) through a value map; a type the
    map does not know is no code either, so the table is refused, not loaded with it."""
    add_profile(layers_copy, ADMIN, "snv_numeric", {
        "crs": "vn2000-cantho", "crs_overrides_file": True,
        "field_map": {"MA": "code", "LOAI": "unit_type"},
        "value_maps": {"unit_type": {1: "phuong", 2: "xa"}},
        "derived": {"name": 'removeprefix(removeprefix(TEN, "Phường"), "Xã")'}})
    env = {"SPP_LAYERS_DIR": str(layers_copy)}
    kinds = [1 if WARDS[i].type == "Phường" else 2 for i in PICK]
    tab = ward_table(open_tmp / "ok" / "xa.tab", LOAI=kinds)
    proc = load(tab, ADMIN, "--profile", "snv_numeric", "--allow-shrink", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"LOAI\s+│\s+→ unit_type \(profile snv_numeric\)", proc.stdout)
    assert re.search(r"= unit_type\s+│\s+values translated by the profile's value map",
                     proc.stdout)
    got = {r["code"]: r["unit_type"] for r in rows(conn, ADMIN)}
    assert got == {WARDS[i].code: {"Phường": "phuong", "Xã": "xa"}[WARDS[i].type] for i in PICK}
    before = served(conn, ADMIN)

    kinds[3] = 3  # a former township: neither in the map nor a code
    proc = load(ward_table(open_tmp / "bad" / "xa.tab", LOAI=kinds), ADMIN, "--profile",
                "snv_numeric", env=env)
    assert proc.returncode == 2 and "Nothing was changed" in flat(proc.stderr)
    assert "unit_type: value map value 3 is not a code of ward_type" in flat(proc.stderr)
    assert served(conn, ADMIN) == before


# -- an address file with a field no alias names ---------------------------------------------
NINH_KIEU_E, NINH_KIEU_N = 585308.926, 1109275.197


def address_csv(path: Path, n: int = 30) -> Path:
    i = np.arange(n)
    rows_ = ["X,Y,MaDC,SoNha,TenDuong,PHUONG,NGUOI_NHAP"]
    for k in i:
        rows_.append(f"{NINH_KIEU_N + 5 * k:.2f},{NINH_KIEU_E + 3 * k:.2f},CT-{k:06d},{k + 1},"
                     f"Trần Hưng Đạo,{'Ninh Kiều' if k % 2 else 'Cái Khế'},nv{k % 3}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows_) + "\n", encoding="utf-8")
    return path


def test_unmapped_field_is_listed_with_a_suggestion_and_dry_run_shows_it_first(conn, open_tmp):
    csv = address_csv(open_tmp / "dia_chi.csv")
    before = served(conn, ADDRESSES)
    dry = load(csv, ADDRESSES, "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    out = dry.stdout
    assert "dry run" in out and served(conn, ADDRESSES) == before  # nothing was written
    assert re.search(r"MaDC\s+│\s+→ address_code \(alias MaDC\)", out)
    assert re.search(r"X\s+│\s+→ geometry", out) and re.search(r"Y\s+│\s+→ geometry", out)
    line = next(x for x in out.splitlines() if re.search(r"│\s+PHUONG\s+│", x))
    assert "not mapped: kept unpublished in extra" in line
    assert "suggestion / gợi ý: ward_name (Tên phường/xã" in line
    assert "--map PHUONG=ward_name" in line
    nguoi = next(x for x in out.splitlines() if re.search(r"│\s+NGUOI_NHAP\s+│", x))
    assert "kept unpublished in extra" in nguoi and "drop it in a profile" in nguoi
    assert "3 mapped / ánh xạ, 2 in extra, 0 dropped" in flat(out)

    # the suggestion, taken: PHUONG is published as ward_name
    done = load(csv, ADDRESSES, "--map", "PHUONG=ward_name")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"PHUONG\s+│\s+→ ward_name \(--map\)", done.stdout)
    wards = {r["ward_name"] for r in rows(conn, ADDRESSES)}
    assert wards == {"Ninh Kiều", "Cái Khế"}

    # next month, through the department's shipped profile: no flags at all
    monthly = load(address_csv(open_tmp / "thang_8" / "dia_chi.csv", 32), ADDRESSES,
                   "--profile", "skhcn_monthly")
    assert monthly.returncode == 0, monthly.stdout + monthly.stderr
    out = monthly.stdout
    assert re.search(r"PHUONG\s+│\s+→ ward_name \(profile skhcn_monthly\)", out)
    assert re.search(r"NGUOI_NHAP\s+│\s+dropped by the profile", out)
    assert re.search(r"PHUONG_CU\s+│\s+not in this delivery / không có trong tệp.*old_ward_name",
                     out)
    # the 30 known addresses changed only in what is kept: NGUOI_NHAP left `extra`
    assert "+2 added, ~30 changed, -0 removed" in flat(out)
    got = rows(conn, ADDRESSES)
    assert len(got) == 32 and all("NGUOI_NHAP" not in (r["extra"] or {}) for r in got)


def test_profile_suggest_writes_a_profile_that_loads_after_review(conn, open_tmp, layers_copy):
    csv = address_csv(open_tmp / "dia_chi_thang_7.csv", 31)
    proc = run_gis("profile", "suggest", str(csv), "--layer", ADDRESSES, "--name",
                   "skhcn_monthly", env=WIDE)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert re.search(r'"PHUONG": ward_name  # REVIEW: fuzzy match [0-9.]+ \(alias TenPhuong\); '
                     r'samples: "Cái Khế", "Ninh Kiều"', text), text
    assert re.search(r'"MaDC": address_code  # alias MaDC; samples: "CT-000000"', text)
    assert 'x_field: "X"' in text and 'y_field: "Y"' in text
    assert '# drop: ["NGUOI_NHAP"]' in text
    suggested = yaml.safe_load(text)["sources"]["skhcn_monthly"]
    # staff review: keep the suggestions, drop the operator column
    suggested["drop"] = ["NGUOI_NHAP"]
    add_profile(layers_copy, ADDRESSES, "skhcn_monthly", suggested)
    done = load(csv, ADDRESSES, "--profile", "skhcn_monthly",
                env={"SPP_LAYERS_DIR": str(layers_copy)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"NGUOI_NHAP\s+│\s+dropped by the profile", done.stdout)
    got = rows(conn, ADDRESSES)
    assert len(got) == 31 and {r["ward_name"] for r in got} == {"Ninh Kiều", "Cái Khế"}
    assert all("NGUOI_NHAP" not in (r["extra"] or {}) for r in got)

    # --out writes the same profile to a file
    out_file = open_tmp / "profile.yaml"
    again = run_gis("profile", "suggest", str(csv), "--layer", ADDRESSES, "--name",
                    "skhcn_monthly", "--out", str(out_file))
    assert again.returncode == 0 and out_file.read_text(encoding="utf-8") == text


def test_suggest_for_the_ward_table_proposes_a_constant_and_names_the_charset(open_tmp):
    tab = ward_table(open_tmp / "xa.tab")
    proc = run_gis("profile", "suggest", str(tab), "--layer", ADMIN, env=WIDE)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    data = yaml.safe_load(text)["sources"]["xa"]
    assert data["field_map"]["TEN"] == "name" and data["field_map"]["MA"] == "code"
    assert data["constants"] == {"unit_type": "phuong"}  # required, not in the file
    assert "REVIEW: required and not in the file; one of phuong, xa, dac_khu" in text
    assert "the file says MapInfo charset WindowsVietnamese (cp1258)" in text
    assert "Afgooye, Krassovsky, Transverse Mercator 105° k=1" in text
    # GDAL's charset complaint: one line on stderr, in both languages, no Python warning
    assert "RuntimeWarning" not in proc.stderr and "Warning 6" not in proc.stderr
    assert "GDAL does not know the MapInfo charset WindowsVietnamese" in flat(proc.stderr)


# -- a profile's key rule ----------------------------------------------------------------------
HYDRANTS = "fire_hydrants"


def hydrants(path: Path, n: int = 12, moved: int | None = None) -> Path:
    """Fire hydrants along a street in Ninh Kiều, their codes empty in every row."""
    x = NINH_KIEU_E + 25.0 * np.arange(n)
    y = np.full(n, NINH_KIEU_N)
    if moved is not None:
        x[moved] += 0.3  # re-surveyed
    frame = gpd.GeoDataFrame({"MaTru": [""] * n, "LoaiTru": ["Trụ nổi"] * n,
                              "ViTri": [f"Trước số {10 + 2 * k} Trần Hưng Đạo" for k in range(n)]},
                             geometry=list(shapely.points(x, y)), crs=5897)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_file(path, engine="pyogrio", encoding="utf-8")
    return path


def test_a_profile_sets_the_key_rule_of_its_deliveries(conn, open_tmp, layers_copy):
    add_profile(layers_copy, HYDRANTS, "ca_no_codes", {
        "description": {"vi": "Trụ nước của PCCC, chưa có mã", "en": "Hydrants, no codes yet"},
        "keys": {"generated": "allow"}})
    env = {"SPP_LAYERS_DIR": str(layers_copy)}
    first_file = hydrants(open_tmp / "v1" / "tru.shp")
    # the layer's own rule: codes are required, so the delivery is refused as always
    plain = load(first_file, HYDRANTS, env=env)
    assert plain.returncode == 2 and "hydrant_code" in plain.stderr
    assert served(conn, HYDRANTS) == (None, None)

    first = load(first_file, HYDRANTS, "--profile", "ca_no_codes", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "generated key" in first.stdout
    before = {r["location"]: r["fid"] for r in rows(conn, HYDRANTS)}
    assert len(before) == 12

    # next delivery: one hydrant re-surveyed 0.3 m off, one more: the ids stay
    second = load(hydrants(open_tmp / "v2" / "tru.shp", 13, moved=4), HYDRANTS, "--profile",
                  "ca_no_codes", env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    after = {r["location"]: r["fid"] for r in rows(conn, HYDRANTS)}
    assert {k: after[k] for k in before} == before and len(after) == 13
    assert "+1 added" in flat(second.stdout) and "=12 kept their ids" in flat(second.stdout)
