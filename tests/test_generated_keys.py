"""Keys when the source has none (`keys:` in a layer file): a point table whose codes are all
empty and a road table whose code repeats on every segment, delivered as Shapefiles and
GeoPackages in VN-2000, then re-delivered with small changes. Ids of unchanged features stay,
moved and changed ones are reported, counts are exact; without `keys:` the same files are
refused as they always were, and a truncated or shifted re-delivery is still refused."""

from __future__ import annotations

import json
import re
import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis.crs import from_wgs84, transform_geometries
from tests.builders import write
from tests.conftest import ROOT, run_gis

POINTS, ROADS = "social_welfare_facilities", "roads"
X0, Y0 = 105.770, 10.030  # Ninh Kiều
M = 1 / 111_320  # a metre north, in degrees (east: M / cos(lat))
ME = M / np.cos(np.radians(Y0))

pytestmark = pytest.mark.usefixtures("own_database")


@pytest.fixture
def conn(own_conn):
    return own_conn


def _strip_keys(text: str) -> str:
    """The layer file as it was before `keys:` (the block and its comment)."""
    text = re.sub(r"(?m)^# (Departments deliver|Facility codes|Pole codes).*\n(^#.*\n)*", "",
                  text)
    return re.sub(r"(?m)^keys:\n(^  .*\n)+", "", text)


@pytest.fixture(scope="module")
def layers_variants(session_dir):
    """Copies of layers/: without any `keys:` (as before), and roads with generated keys but
    no segment merge."""
    plain = session_dir / "layers_no_keys"
    shutil.copytree(ROOT / "layers", plain, dirs_exist_ok=True)
    for lid in (POINTS, ROADS):
        path = plain / f"{lid}.yaml"
        path.write_text(_strip_keys(path.read_text(encoding="utf-8")), encoding="utf-8")
        assert "keys:" not in path.read_text(encoding="utf-8")
    unmerged = session_dir / "layers_roads_unmerged"
    shutil.copytree(ROOT / "layers", unmerged, dirs_exist_ok=True)
    path = unmerged / f"{ROADS}.yaml"
    text = _strip_keys(path.read_text(encoding="utf-8")).replace(
        "natural_key: [segment_code]\n",
        "natural_key: [segment_code]\nkeys: {generated: allow, same_within_m: 1}\n")
    path.write_text(text, encoding="utf-8")
    merge_only = session_dir / "layers_roads_merge_only"
    shutil.copytree(ROOT / "layers", merge_only, dirs_exist_ok=True)
    path = merge_only / f"{ROADS}.yaml"
    text = _strip_keys(path.read_text(encoding="utf-8")).replace(
        "natural_key: [segment_code]\n",
        "natural_key: [segment_code]\nkeys: {merge_segments_by: [road_code]}\n")
    path.write_text(text, encoding="utf-8")
    return {"plain": {"SPP_LAYERS_DIR": str(plain)},
            "unmerged": {"SPP_LAYERS_DIR": str(unmerged)},
            "merge_only": {"SPP_LAYERS_DIR": str(merge_only)}}


def _reset(conn, layer_id):
    conn.execute(f'DROP VIEW IF EXISTS data."{layer_id}"')
    rows = conn.execute(  # version tables, and the views and overlays of edits
        "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = "
        "c.relnamespace WHERE n.nspname = 'data' AND c.relkind IN ('r', 'v') AND "
        "starts_with(c.relname, %s)", (f"{layer_id}__v",)).fetchall()
    for r in sorted(rows, key=lambda r: r["relkind"] != "v"):  # views first
        kind = "VIEW" if r["relkind"] == "v" else "TABLE"
        conn.execute(f'DROP {kind} IF EXISTS data."{r["relname"]}" CASCADE')
    conn.execute("DELETE FROM spp.layer_versions WHERE layer_id = %s", (layer_id,))
    conn.execute("UPDATE spp.layers SET current_version = NULL, feature_count = NULL "
                 "WHERE id = %s", (layer_id,))
    conn.execute(f'DROP SEQUENCE IF EXISTS data."{layer_id}__fid_seq"')
    conn.execute("DELETE FROM spp.change_sets WHERE layer_id = %s", (layer_id,))


@pytest.fixture
def fresh(conn):
    for lid in (POINTS, ROADS):
        _reset(conn, lid)
    yield
    for lid in (POINTS, ROADS):
        _reset(conn, lid)


def load(path, layer, *args, env=None, check=True):
    return run_gis("load", str(path), "--layer", layer, *args,
                   env={"COLUMNS": "220", **(env or {})}, check=check)


def current(conn, layer_id):
    return conn.execute("SELECT v.* FROM spp.layers l JOIN spp.layer_versions v ON "
                        "v.layer_id = l.id AND v.version = l.current_version WHERE l.id = %s",
                        (layer_id,)).fetchone()


def changes(conn, layer_id):
    return json.loads(current(conn, layer_id)["message"])["changes"]


def vn2000(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame's WGS 84 geometries in VN-2000 / TM-3 105°45' (Cần Thơ), as delivered."""
    planar = transform_geometries(np.asarray(gdf.geometry, dtype=object),
                                  from_wgs84("vn2000-cantho"))
    return gpd.GeoDataFrame(gdf.drop(columns="geometry"), geometry=list(planar), crs=5897)


# -- a point table whose codes are all empty -------------------------------------------------
N = 30


def facilities() -> gpd.GeoDataFrame:
    """30 facilities ~40 m apart, codes empty, every other attribute filled."""
    i = np.arange(N)
    return gpd.GeoDataFrame({
        "MaCS": [""] * N,
        "TenCS": [f"Trung tâm bảo trợ xã hội số {k + 1}" for k in i],
        "LoaiHinh": np.array(["Cơ sở bảo trợ xã hội", "Trung tâm công tác xã hội"])[i % 2],
        "QuyMo": 50 + i,
        "DiaChi": [f"{k + 1} đường 30 Tháng 4" for k in i],
        "TenXa": ["Phường Ninh Kiều"] * N,
    }, geometry=shapely.points(X0 + (i % 6) * 40 * ME, Y0 + (i // 6) * 40 * M), crs=4326)


def fids_by_name(conn):
    return {r["name"]: r["fid"] for r in conn.execute(
        f'SELECT fid, name FROM data."{POINTS}"').fetchall()}


def test_points_with_empty_codes_keep_their_ids(fresh, conn, tmp_path, layers_variants):
    v1 = write(vn2000(facilities()), tmp_path / "v1" / "cs_tgxh.shp")

    # without keys: refused exactly as before: every code empty, required
    plain = load(v1, POINTS, env=layers_variants["plain"], check=False)
    assert plain.returncode == 2, plain.stdout
    assert "facility_code (Mã cơ sở) is empty but required" in plain.stderr
    assert "Nothing was changed" in plain.stderr and current(conn, POINTS) is None

    first = load(v1, POINTS)
    assert "generated key" in first.stdout, first.stdout
    row = current(conn, POINTS)
    assert row["feature_count"] == N and row["count_rejected"] == 0
    c = changes(conn, POINTS)
    assert c["generated"] is True and c["added"] == N and c["matched"] == 0
    before = fids_by_name(conn)
    assert sorted(before.values()) == list(range(1, N + 1))
    v1_version = row["version"]

    # re-delivered as a GeoPackage, rows in another order: #4 moved 6 m, #8's capacity
    # changed, #13 gone, one new facility
    gdf = facilities()
    gdf.loc[3, "geometry"] = shapely.Point(X0 + 3 * 40 * ME + 6 * ME, Y0)
    gdf.loc[7, "QuyMo"] = 120
    gdf = gdf.drop(index=12)
    new = gpd.GeoDataFrame({"MaCS": [""], "TenCS": ["Cơ sở chăm sóc người cao tuổi An Bình"],
                            "LoaiHinh": ["Cơ sở chăm sóc người cao tuổi"], "QuyMo": [40],
                            "DiaChi": ["5 Trần Hưng Đạo"], "TenXa": ["Phường Ninh Kiều"]},
                           geometry=[shapely.Point(X0 + 500 * ME, Y0 + 500 * M)], crs=4326)
    gdf = gpd.GeoDataFrame(
        pd.concat([gdf, new]).iloc[::-1].reset_index(drop=True), crs=4326)
    v2 = write(vn2000(gdf), tmp_path / "v2" / "cs_tgxh.gpkg", layer="co_so")
    second = load(v2, POINTS)
    after = fids_by_name(conn)
    name = facilities()["TenCS"].tolist()
    kept = [n for k, n in enumerate(name) if k != 12]
    assert {n: after[n] for n in kept} == {n: before[n] for n in kept}  # same ids, all 29
    assert name[12] not in after
    assert after["Cơ sở chăm sóc người cao tuổi An Bình"] == N + 1  # a new id
    c = changes(conn, POINTS)
    assert (c["added"], c["removed"], c["matched"], c["moved"], c["attributes_changed"]) == \
        (1, 1, N - 1, 1, 1)
    assert c["current"] == N and c["against"] == v1_version and c["changed"] == 2
    assert [f["fid"] for f in c["moved_features"]] == [before[name[3]]]
    assert 5.5 < c["moved_features"][0]["moved_m"] < 6.5
    assert c["changed_features"] == [
        {"fid": before[name[7]], "row": c["changed_features"][0]["row"],
         "fields": ["capacity"]}]
    # the change feed has the same story, by the ids the matching gave
    feed = conn.execute(
        "SELECT change, fid FROM spp.feature_changes WHERE set_id = (SELECT max(id) FROM "
        "spp.change_sets WHERE layer_id = %s)", (POINTS,)).fetchall()
    assert sorted((r["change"], r["fid"]) for r in feed) == sorted([
        ("created", N + 1), ("deleted", before[name[12]]), ("updated", before[name[3]]),
        ("updated", before[name[7]])])
    out = " ".join(second.stdout.split())
    assert "+1 added" in out and "-1 removed" in out and "=29 kept their ids" in out
    assert "1 moved" in out and "1 with changed attributes" in out
    assert "facility_code empty in 30 features" in out
    assert "fid 4 (row " in out and "): 6 m" in out and ("fid 8 (row ") in out
    hist = " ".join(run_gis("layer", "history", POINTS, env={"COLUMNS": "250"},
                            check=True).stdout.split())
    assert "=29 (1 moved) generated keys" in hist

    # the same file again, forced: every id stays (deterministic), nothing moved
    load(v2, POINTS, "--force")
    assert fids_by_name(conn) == after
    c = changes(conn, POINTS)
    assert (c["added"], c["removed"], c["matched"], c["moved"], c["changed"]) == (0, 0, N, 0, 0)

    # a delivery cut short (the first 12 rows) is still refused
    short = write(vn2000(gdf.iloc[:12]), tmp_path / "v3" / "cs_tgxh.shp")
    cut = load(short, POINTS, check=False)
    assert cut.returncode == 2 and "--allow-shrink" in cut.stderr
    assert "generated key" in cut.stderr and current(conn, POINTS)["version"] == v1_version + 2

    # the whole delivery 8 m east (a CRS slip, not a re-survey) is still refused
    shifted = gdf.copy()
    shifted["geometry"] = shapely.transform(np.asarray(gdf.geometry), lambda xy: xy + [8 * ME, 0])
    moved = load(write(vn2000(shifted), tmp_path / "v4" / "cs_tgxh.shp"), POINTS, check=False)
    assert moved.returncode == 2 and "moved alike" in moved.stderr, moved.stderr
    assert "checks.max_shift_m" in moved.stderr
    assert current(conn, POINTS)["version"] == v1_version + 2


def test_ambiguous_matches_resolve_the_same_way(fresh, conn, tmp_path):
    """Two facilities alike in every attribute, 4 m apart, both moved 1.5 m east: each keeps
    its own id (nearest pairs first), whatever the row order."""
    gdf = facilities().iloc[:2].copy()
    gdf["TenCS"] = "Điểm trợ giúp"
    gdf["QuyMo"] = 10
    gdf["DiaChi"] = "Chợ Tân An"
    gdf["geometry"] = [shapely.Point(X0, Y0), shapely.Point(X0 + 4 * ME, Y0)]
    load(write(vn2000(gdf), tmp_path / "a" / "d.shp"), POINTS)

    def at():  # {decimetres east of X0: fid}
        return {round((r["x"] - X0) / ME * 10): r["fid"] for r in conn.execute(
            f'SELECT fid, ST_X(geom) AS x FROM data."{POINTS}"').fetchall()}

    ids = at()
    assert sorted(ids) == [0, 40]
    moved = gdf.iloc[::-1].copy()
    moved["geometry"] = [shapely.Point(X0 + 5.5 * ME, Y0), shapely.Point(X0 + 1.5 * ME, Y0)]
    load(write(vn2000(moved), tmp_path / "b" / "d.shp"), POINTS)
    assert at() == {15: ids[0], 55: ids[40]}
    assert changes(conn, POINTS)["moved"] == 2


# -- a road table whose code repeats on every segment ----------------------------------------
def road_segments(roads: dict[str, int], start_y: float = Y0) -> gpd.GeoDataFrame:
    """{code: segments}: each road a straight east-west line cut into 100 m segments."""
    rows = []
    for r, (code, n) in enumerate(roads.items()):
        y = start_y + r * 200 * M
        xs = X0 + np.arange(n + 1) * 100 * ME  # segments share their end points exactly
        for s in range(n):
            rows.append({"MaDoan": code, "TenDuong": f"Đường {code}", "CapDuong": "Đường xã",
                         "ChieuDai": 100.0, "LoGioi": 12.0, "GhiChu": f"{code} đoạn {s + 1}",
                         "geometry": shapely.LineString([(xs[s], y), (xs[s + 1], y)])})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


ROADS_V1 = {f"D{k:02d}": 2 + k % 4 for k in range(1, 13)}  # 12 roads, 2 to 5 segments


def road_ids(conn):
    return {r["segment_code"]: r["fid"] for r in conn.execute(
        f'SELECT fid, segment_code FROM data."{ROADS}"').fetchall()}


def test_roads_merged_by_code(fresh, conn, tmp_path, layers_variants):
    gdf = road_segments(ROADS_V1)
    gdf.loc[gdf.index[(gdf["MaDoan"] == "D03")][1], "CapDuong"] = "Hẻm"  # one segment disagrees
    v1 = write(vn2000(gdf), tmp_path / "v1" / "duong.shp")

    plain = load(v1, ROADS, env=layers_variants["plain"], check=False)
    assert plain.returncode == 2 and "duplicate segment_code" in plain.stderr
    assert current(conn, ROADS) is None

    first = load(v1, ROADS)
    assert "segments merged by segment_code" in " ".join(first.stdout.split())
    rows = {r["segment_code"]: r for r in conn.execute(
        f'SELECT fid, segment_code, road_class, length, extra, ST_NumGeometries(geom) AS parts, '
        f'ST_Length(geom::geography) AS metres FROM data."{ROADS}"').fetchall()}
    assert sorted(rows) == sorted(ROADS_V1)
    for code, n in ROADS_V1.items():
        assert rows[code]["parts"] == 1  # touching segments joined into one line
        assert rows[code]["length"] == 100.0 * n
        assert abs(rows[code]["metres"] - 100 * n) < 1
    assert rows["D03"]["road_class"] == "Đường xã"  # the value most segments carry
    kept = rows["D03"]["extra"]  # every segment's class and unmapped note (GhiChu)
    assert list(kept["segment_values"]) == ["road_class"]
    assert sorted(kept["segment_values"]["road_class"]) == ["Hẻm"] + ["Đường xã"] * 4
    assert sorted(e["GhiChu"] for e in kept["segment_extra"]) == \
        [f"D03 đoạn {k}" for k in range(1, 6)]
    assert rows["D03"]["extra"]["segments"] == 5
    assert "road_class: segments of merged features disagree" in " ".join(first.stdout.split())
    c = changes(conn, ROADS)
    assert c["segments"] == sum(ROADS_V1.values()) and c["added"] == len(ROADS_V1)
    assert c["generated"] is False
    before = road_ids(conn)

    # re-delivered with segments in reverse order: D02 one segment longer, D05 gone, D20 new
    gdf2 = road_segments({**ROADS_V1, "D02": ROADS_V1["D02"] + 1})
    gdf2 = gdf2[gdf2["MaDoan"] != "D05"]
    gdf2 = gpd.GeoDataFrame(
        pd.concat([gdf2, road_segments({"D20": 2}, Y0 + 3000 * M)]),
        crs=4326).iloc[::-1]
    load(write(vn2000(gdf2), tmp_path / "v2" / "duong.gpkg", layer="duong"), ROADS)
    after = road_ids(conn)
    kept = [k for k in ROADS_V1 if k != "D05"]
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}
    assert "D05" not in after and after["D20"] == max(before.values()) + 1
    c = changes(conn, ROADS)
    # D02 longer; D03 now agrees on its class (the disagreement note went away)
    assert (c["added"], c["removed"], c["matched"], c["changed"]) == (1, 1, len(kept), 2)
    assert c["key_rule"].startswith("segments merged by segment_code, natural key")

    # a road table cut to two roads is still refused
    cut = load(write(vn2000(gdf2[gdf2["MaDoan"].isin(["D01", "D20"])]),
                     tmp_path / "v3" / "duong.shp"), ROADS, check=False)
    assert cut.returncode == 2 and "--allow-shrink" in cut.stderr

    # every road renumbered: nothing matches, and the refusal says what that looks like
    renamed = gdf2.assign(MaDoan="X" + gdf2["MaDoan"].str[1:])
    proc = load(write(vn2000(renamed), tmp_path / "v4" / "duong.shp"), ROADS, check=False)
    assert proc.returncode == 2 and "Not one feature matched" in proc.stderr


def test_roads_with_generated_keys_unmerged(fresh, conn, tmp_path, layers_variants):
    """Without merge_segments_by every segment is a feature; ids come from geometry."""
    env = layers_variants["unmerged"]
    gdf = road_segments(ROADS_V1)
    load(write(vn2000(gdf), tmp_path / "v1" / "duong.shp"), ROADS, env=env)
    assert current(conn, ROADS)["feature_count"] == sum(ROADS_V1.values())
    key = "segment_code || ':' || round(ST_X(ST_StartPoint(ST_GeometryN(geom, 1)))::numeric, 5)"
    before = {r["k"]: r["fid"] for r in conn.execute(
        f'SELECT fid, {key} AS k FROM data."{ROADS}"').fetchall()}
    # D04's second segment re-drawn 0.3 m off (same place), the rest as before, shuffled
    gdf2 = gdf.sample(frac=1, random_state=7)
    i = gdf2.index[(gdf2["MaDoan"] == "D04")][1]
    gdf2.loc[i, "geometry"] = shapely.transform(gdf2.loc[i, "geometry"],
                                                lambda xy: xy + [0, 0.3 * M])
    load(write(vn2000(gdf2), tmp_path / "v2" / "duong.shp"), ROADS, env=env)
    after = {r["k"]: r["fid"] for r in conn.execute(
        f'SELECT fid, {key} AS k FROM data."{ROADS}"').fetchall()}
    assert after == before
    c = changes(conn, ROADS)
    assert (c["added"], c["removed"], c["matched"], c["moved"]) == \
        (0, 0, sum(ROADS_V1.values()), 0)
    assert c["generated"] is True and c["changed"] == 1


# -- the key rule in layer files ---------------------------------------------------------------
BAD_RULES = {
    # case: (layer, keys block, marker of the reported line or None for the top level, words)
    "unknown_field": (POINTS, "keys:\n  generated: allow\n  match_fields: [name, colour]\n",
                      "match_fields:", ["keys.match_fields", "'colour'", "not among"]),
    "merge_on_points": (POINTS, "keys:\n  merge_segments_by: [name]\n", None,
                        ["merge_segments_by is for line layers"]),
    "sum_of_text": (ROADS, "keys:\n  merge_segments_by: [segment_code]\n  merge_sum: [name]\n",
                    None, ["merge_sum field 'name' is not a number field"]),
    "bad_value": (POINTS, "keys:\n  generated: sometimes\n", "generated:",
                  ["keys.generated", "'off' or 'allow'"]),
    "tolerances": (POINTS, "keys:\n  same_within_m: 30\n  moved_within_m: 10\n", None,
                   ["moved_within_m must be at least"]),
}


@pytest.mark.parametrize("case", sorted(BAD_RULES))
def test_bad_key_rules_are_refused_at_their_line(tmp_path, case):
    from gis.layerdef import LayerDefinitionError, parse_layer_file

    layer, block, marker, words = BAD_RULES[case]
    text = _strip_keys((ROOT / "layers" / f"{layer}.yaml").read_text(encoding="utf-8"))
    text = text.replace("fields:\n", block + "fields:\n", 1)
    path = tmp_path / f"{layer}.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LayerDefinitionError) as exc:
        parse_layer_file(path)
    message = str(exc.value)
    for word in words:
        assert word in message, message
    if marker:
        line = [i for i, s in enumerate(text.splitlines(), 1) if s.strip().startswith(marker)]
        assert f"{path}:{line[0]}:" in message, message


def test_yaml_booleans_read_as_the_rule(tmp_path):
    from gis.layerdef import parse_layer_file

    text = _strip_keys((ROOT / "layers" / f"{POINTS}.yaml").read_text(encoding="utf-8"))
    for word, rule in (("off", "off"), ("no", "off"), ("yes", "allow"), ("on", "allow")):
        path = tmp_path / f"{POINTS}.yaml"
        path.write_text(text.replace("fields:\n", f"keys: {{generated: {word}}}\nfields:\n", 1),
                        encoding="utf-8")
        assert parse_layer_file(path).keys.generated == rule
    assert parse_layer_file(ROOT / "layers" / f"{ROADS}.yaml").keys.merge_segments_by == \
        ["segment_code"]


def test_many_alike_poles_keep_their_ids(fresh, conn, tmp_path):
    """20 000 street lights with no codes and the same attributes, 9 m apart (closer than
    keys.moved_within_m, so every pole has rivals), re-surveyed 0.3 m off: every pole keeps its
    id, matched in the database in one pass, not row by row."""
    import time

    lights = "street_lights"
    _reset(conn, lights)
    n, cols = 20_000, 200
    i = np.arange(n)
    x, y = X0 + (i % cols) * 9 * ME, Y0 + (i // cols) * 9 * M
    gdf = gpd.GeoDataFrame({"MaDen": [""] * n, "LoaiDen": ["LED"] * n, "CongSuat": [100] * n},
                           geometry=shapely.points(x, y), crs=4326)
    try:
        load(write(vn2000(gdf), tmp_path / "a" / "den.shp"), lights)
        key = f"round((ST_X(geom) - {X0}) / {ME * 9}) * 1000 + round((ST_Y(geom) - {Y0}) / {M * 9})"
        before = {r["k"]: r["fid"] for r in conn.execute(
            f'SELECT fid, {key} AS k FROM data."{lights}"').fetchall()}
        assert len(before) == n
        resurvey = gdf.iloc[::-1].copy()
        resurvey["geometry"] = shapely.points(x[::-1] + 0.3 * ME, y[::-1] - 0.2 * M)
        started = time.monotonic()
        load(write(vn2000(resurvey), tmp_path / "b" / "den.shp"), lights)
        took = time.monotonic() - started
        after = {r["k"]: r["fid"] for r in conn.execute(
            f'SELECT fid, {key} AS k FROM data."{lights}"').fetchall()}
        assert after == before
        c = changes(conn, lights)
        assert (c["matched"], c["added"], c["removed"], c["moved"]) == (n, 0, 0, 0)
        assert took < 120, f"{took:.0f} s"
    finally:
        _reset(conn, lights)


def test_merged_roads_that_moved_together_are_refused(fresh, conn, tmp_path):
    """The shift check runs on merged roads too (paired by code once merged)."""
    roads = {f"R{k:02d}": 2 for k in range(24)}
    load(write(vn2000(road_segments(roads)), tmp_path / "a" / "duong.shp"), ROADS)
    shifted = road_segments(roads, Y0 + 8 * M)
    proc = load(write(vn2000(shifted), tmp_path / "b" / "duong.shp"), ROADS, check=False)
    assert proc.returncode == 2, proc.stdout  # (M is 1/111 320 °: 8 "m" are 7.9 m there)
    assert re.search(r"24 of 24 features .* moved alike by (7\.[89]|8\.0) m", proc.stderr)
    assert "segments merged by segment_code" in proc.stderr
    ok = load(write(vn2000(shifted), tmp_path / "b" / "duong.shp"), ROADS, "--allow-shift")
    assert ok.returncode == 0 and changes(conn, ROADS)["matched"] == 24


def test_merge_without_generated_keys_refuses_what_stays_ambiguous(fresh, conn, tmp_path,
                                                                   layers_variants):
    """Merged by road_code, a segment_code that still repeats (and no generated keys) is
    refused, naming the way forward."""
    gdf = road_segments({"A": 2, "B": 2, "C": 3})
    gdf["MaDuong"] = gdf["MaDoan"]
    gdf["MaDoan"] = [f"S{k % 2}" for k in range(len(gdf))]
    proc = load(write(vn2000(gdf), tmp_path / "duong.shp"), ROADS,
                env=layers_variants["merge_only"], check=False)
    assert proc.returncode == 2, proc.stdout
    assert "after merging segments by road_code" in proc.stderr
    assert "keys: {generated: allow}" in proc.stderr and current(conn, ROADS) is None


def test_a_delivery_profile_may_bring_its_own_key_rule(fresh, conn, tmp_path):
    """LoadOptions.key_rule (what a delivery profile sets) replaces the layer's keys:."""
    from gis.layerdef import KeyRule
    from gis.loader.load import LoadError, LoadOptions
    from gis.loader.load import load as load_in_process
    from tests.conftest import _clear_caches

    _clear_caches()  # this module's database (own_database) for the in-process load
    path = write(vn2000(road_segments(ROADS_V1)), tmp_path / "duong.shp")
    result = load_in_process(path, ROADS, LoadOptions(key_rule=KeyRule(generated="allow")))
    assert result.status == "current" and result.feature_count == sum(ROADS_V1.values())
    assert result.changes["generated"] is True and "segments merged" not in \
        result.changes["key_rule"]
    with pytest.raises(LoadError, match="merge_sum field 'name' is not a number field"):
        load_in_process(path, ROADS, LoadOptions(key_rule=KeyRule(
            merge_segments_by=["segment_code"], merge_sum=["name"])))
    assert current(conn, ROADS)["version"] == result.version


def test_edits_on_a_layer_with_generated_keys(fresh, conn, tmp_path):
    """A facility added and one changed through the edit path (no codes, as the deliveries),
    then the department's next delivery: the edited ones keep their ids, the rest too."""
    from gis import edits
    from gis.edits import Op
    from gis.layerdef import get_layer_def
    from tests.conftest import _clear_caches

    _clear_caches()
    load(write(vn2000(facilities()), tmp_path / "v1" / "cs.shp"), POINTS)
    before = fids_by_name(conn)
    name = facilities()["TenCS"].tolist()
    layer = get_layer_def(POINTS)
    new = {"type": "Feature", "geometry": {"type": "Point",
                                           "coordinates": [X0 + 600 * ME, Y0 + 600 * M]},
           "properties": {"name": "Cơ sở mới", "capacity": 12}}
    done = edits.apply(conn, layer, [Op("create", feature=new), Op("create", feature=new),
                                     Op("update", before[name[5]],
                                        {"properties": {"capacity": 99}})], "an.nguyen",
                       {"source": "test"})
    assert len(set(done.fids)) == 3 and done.fids[2] == before[name[5]]
    edited = fids_by_name(conn)
    # the next delivery has facility 6's new capacity and one of the two new ones
    gdf = facilities()
    gdf.loc[5, "QuyMo"] = 99
    extra = gpd.GeoDataFrame({"MaCS": [""], "TenCS": ["Cơ sở mới"], "QuyMo": [12]},
                             geometry=[shapely.Point(X0 + 600 * ME, Y0 + 600 * M)], crs=4326)
    gdf = gpd.GeoDataFrame(pd.concat([gdf, extra]).reset_index(drop=True), crs=4326)
    load(write(vn2000(gdf), tmp_path / "v2" / "cs.shp"), POINTS)
    after = conn.execute(f'SELECT fid FROM data."{POINTS}"').fetchall()
    assert {r["fid"] for r in after} == set(before.values()) | {min(done.fids[:2])}
    assert fids_by_name(conn)[name[5]] == edited[name[5]]
    c = changes(conn, POINTS)
    assert (c["matched"], c["added"], c["removed"]) == (N + 1, 0, 1)
