"""gis/edits.py against a real PostGIS: versions with lineage (overlay views and full tables),
rollback and pruning like loads, the loader's own refusals, ids and natural keys."""

from __future__ import annotations

import geopandas as gpd
import psycopg
import pytest
import shapely
from psycopg import sql
from psycopg.rows import dict_row

from gis import edits, overview
from gis.edits import Op
from gis.layerdef import get_layer_def
from gis.settings import get_settings
from tests.builders import parcel_frame, write
from tests.conftest import run_gis

LAYER = "trees"
POINTS = [(105.780, 10.030), (105.781, 10.031), (105.782, 10.032), (105.783, 10.033)]


@pytest.fixture
def db(own_database, open_tmp, monkeypatch):
    """A fresh trees layer (4 trees, one load) on this module's database."""
    monkeypatch.setenv("DATABASE_URL", own_database)
    get_settings.cache_clear()
    frame = gpd.GeoDataFrame(
        {"MaCay": [f"C-{i}" for i in range(4)], "TenCay": ["Sao", "Dầu", "Me", "Bàng"],
         "ChieuCao": [10, 12, 8, 6]},
        geometry=[shapely.Point(*p) for p in POINTS], crs="OGC:CRS84")
    run_gis("load", str(write(frame, open_tmp / "cay.geojson")), "--layer", LAYER, "--force",
            "--allow-shrink", check=True)  # earlier tests' edits added trees
    with psycopg.connect(own_database, autocommit=True, row_factory=dict_row) as c:
        yield c
    get_settings.cache_clear()


def feature(code, lon, lat, **props):
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"tree_code": code, **props}}


def rows(c):
    return {r["tree_code"]: r for r in c.execute(
        "SELECT fid, tree_code, species, height, ST_X(geom) AS x, ST_Y(geom) AS y "
        "FROM data.trees").fetchall()}


def test_create_update_delete_are_versions_with_lineage(db):
    layer = get_layer_def(LAYER)
    fids = {k: r["fid"] for k, r in rows(db).items()}
    before = db.execute("SELECT current_version AS v FROM spp.layers WHERE id = %s",
                        (LAYER,)).fetchone()["v"]
    r1 = edits.apply(db, layer, [Op("create", feature=feature("C-9", 105.785, 10.035,
                                                           species="Sao đen", height=3))],
                     "an.nguyen", {"source": "test", "role": "staff"})
    assert r1.version == before + 1 and r1.strategy == "overlay"
    new = r1.fids[0]
    assert new not in fids.values() and r1.tokens[new]
    r2 = edits.apply(db, layer, [
        Op("update", fids["C-1"], {"properties": {"height": 15.5, "species": None}}),
        Op("delete", fids["C-2"])], "binh.tran", {"source": "test"})
    now = rows(db)
    assert set(now) == {"C-0", "C-1", "C-3", "C-9"}
    assert now["C-1"]["height"] == 15.5 and now["C-1"]["species"] is None
    assert now["C-1"]["x"] == pytest.approx(POINTS[1][0], abs=1e-12)  # geometry kept
    assert now["C-9"]["species"] == "Sao đen"
    v = db.execute("SELECT * FROM spp.layer_versions WHERE layer_id = %s AND version = %s",
                   (LAYER, r2.version)).fetchone()
    assert v["mode"] == "edit" and v["operator"] == "binh.tran" and v["status"] == "current"
    assert v["edits"]["updated"] == [fids["C-1"]] and v["edits"]["deleted"] == [fids["C-2"]]
    assert v["parent_version"] == r1.version and v["feature_count"] == 4
    # the change feed and its webhook outbox, in the edit's transaction (gis/changefeed.py)
    feed = db.execute("SELECT s.action, s.operator, f.change, f.fid FROM spp.change_sets s "
                      "JOIN spp.feature_changes f ON f.set_id = s.id WHERE s.layer_id = %s "
                      "AND s.version = %s ORDER BY f.change", (LAYER, r2.version)).fetchall()
    assert [(f["action"], f["operator"], f["change"], f["fid"]) for f in feed] == [
        ("edit", "binh.tran", "deleted", fids["C-2"]), ("edit", "binh.tran", "updated",
                                                        fids["C-1"])]
    audit = db.execute("SELECT actor, action, detail FROM spp.audit_log WHERE layer_id = %s "
                       "AND action = 'edit' ORDER BY id", (LAYER,)).fetchall()
    assert [a["actor"] for a in audit][-2:] == ["an.nguyen", "binh.tran"]
    assert audit[-1]["detail"]["deleted"] == [fids["C-2"]]

    # gis layer rollback, as for a load: the view shows the previous version again
    run_gis("layer", "rollback", LAYER, check=True)
    assert set(rows(db)) == {"C-0", "C-1", "C-2", "C-3", "C-9"}
    assert rows(db)["C-1"]["height"] == 12
    run_gis("layer", "rollback", LAYER, "--to", str(before), check=True)
    assert set(rows(db)) == {"C-0", "C-1", "C-2", "C-3"}
    # an edit after a rollback builds on what is current
    r3 = edits.apply(db, layer, [Op("update", fids["C-0"], {"properties": {"height": 1}})],
                     "an.nguyen", {})
    assert r3.version > r2.version
    assert set(rows(db)) == {"C-0", "C-1", "C-2", "C-3"} and rows(db)["C-0"]["height"] == 1


def test_full_table_when_the_overlay_is_too_big(db, monkeypatch):
    monkeypatch.setenv("SPP_EDIT_OVERLAY_MAX_ROWS", "0")
    get_settings.cache_clear()
    layer = get_layer_def(LAYER)
    fid = rows(db)["C-3"]["fid"]
    r = edits.apply(db, layer, [Op("update", fid, {"properties": {"height": 7}})], "x", {})
    assert r.strategy == "table" and rows(db)["C-3"]["height"] == 7
    kind = db.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)",
                      (f'data."{LAYER}__v{r.version}"',)).fetchone()["relkind"]
    assert kind == "r"


def test_prune_keeps_the_table_edit_versions_build_on(db, monkeypatch):
    monkeypatch.setenv("SPP_KEEP_VERSIONS", "2")
    get_settings.cache_clear()
    layer = get_layer_def(LAYER)
    fid = rows(db)["C-0"]["fid"]
    for h in range(5):
        edits.apply(db, layer, [Op("update", fid, {"properties": {"height": 20 + h}})], "x", {})
    assert rows(db)["C-0"]["height"] == 24
    kept = db.execute("SELECT version, table_name, base_table FROM spp.layer_versions WHERE "
                      "layer_id = %s AND table_name IS NOT NULL ORDER BY version",
                      (LAYER,)).fetchall()
    bases = {k["base_table"] for k in kept if k["base_table"]}
    assert bases <= {k["table_name"] for k in kept}  # every base is still there
    assert len([k for k in kept if k["base_table"]]) == 2


def test_refusals_carry_the_loaders_reasons(db, open_tmp):
    layer = get_layer_def(LAYER)
    before = rows(db)
    # the same bad feature through `gis load` and through an edit: the same reason
    bad = gpd.GeoDataFrame({"MaCay": ["X-1"]}, geometry=[shapely.Point(106.9, 10.5)],
                           crs="OGC:CRS84")
    load = run_gis("load", str(write(bad, open_tmp / "xa.geojson")), "--layer", LAYER,
                   "--mode", "append", "--source-crs", "EPSG:4326")
    assert load.returncode != 0
    with pytest.raises(edits.EditInvalid) as exc:
        edits.apply(db, layer, [Op("create", feature=feature("X-1", 106.9, 10.5))], "x", {})
    label, reason = str(exc.value).split(": ", 1)
    assert label == "the new feature" and reason.startswith("coordinates do not fit Cần Thơ")
    assert " ".join(reason.split()) in " ".join((load.stderr + load.stdout).split())

    with pytest.raises(edits.EditInvalid, match="tree_code .* is empty but required"):
        edits.apply(db, layer, [Op("create", feature=feature(None, 105.78, 10.03))], "x", {})
    with pytest.raises(edits.EditInvalid, match="does not fit the layer's Point type"):
        edits.apply(db, layer, [Op("create", feature={
            "geometry": {"type": "LineString", "coordinates": [[105.78, 10.03], [105.79, 10.04]]},
            "properties": {"tree_code": "L"}})], "x", {})
    with pytest.raises(edits.EditInvalid, match="unknown properties 'colour'"):
        edits.apply(db, layer, [Op("create", feature=feature("C-7", 105.78, 10.03,
                                                             colour="green"))], "x", {})
    with pytest.raises(edits.EditConflict, match="already in the layer"):
        edits.apply(db, layer, [Op("create", feature=feature("C-1", 105.78, 10.03))], "x", {})
    with pytest.raises(edits.EditNotFound):
        edits.apply(db, layer, [Op("delete", 10**12)], "x", {})
    with pytest.raises(edits.EditStale):
        edits.apply(db, layer, [Op("delete", before["C-1"]["fid"], expect="0" * 16)], "x", {})
    assert rows(db) == before  # nothing changed by any of them


def test_vn2000_input_goes_through_epsg_6960(db):
    from tests.ogc_fixtures import REGRESSION

    layer = get_layer_def(LAYER)
    (lon, lat), planes = REGRESSION["Ninh Kiều"]
    for epsg, (e, n) in planes.items():
        r = edits.apply(db, layer, [Op("create", feature=feature(f"VN-{epsg}", e, n))], "x", {},
                        crs=f"EPSG:{epsg}")
        got = db.execute("SELECT ST_X(geom) AS x, ST_Y(geom) AS y FROM data.trees WHERE fid = %s",
                         (r.fids[0],)).fetchone()
        # 1 mm is about 9e-9 degree here
        assert abs(got["x"] - lon) < 9e-9 and abs(got["y"] - lat) < 9e-9, epsg


def test_an_edit_version_pages_by_fid_without_sorting(db):
    """The overlay view must flatten into one append of the two tables, so that a page in
    fid order is a merge of index scans: with sorting disabled the plan has no Sort node (a
    view PostgreSQL cannot flatten would still need one: 262 ms a page on 300 000 parcels)."""
    layer = get_layer_def(LAYER)
    fid = rows(db)["C-2"]["fid"]
    r = edits.apply(db, layer, [Op("update", fid, {"properties": {"height": 3}})], "x", {})
    assert r.strategy == "overlay"
    with db.transaction():
        db.execute("SET LOCAL enable_sort = off")
        plan = "\n".join(p["QUERY PLAN"] for p in db.execute(
            "EXPLAIN SELECT * FROM data.trees WHERE fid > 0 ORDER BY fid LIMIT 2").fetchall())
    assert "Merge Append" in plan and "Sort" not in plan.replace("Sort Key", ""), plan


def test_overview_indexes_after_a_full_table_edit_and_under_an_overlay(own_database, open_tmp,
                                                                       monkeypatch):
    """Parcels are drawn as overviews at z12-z13: the load makes a partial index of each of
    those zooms where most parcels are too small to draw (gis.overview; the test parcels: z12
    only), a full-table edit makes it again, and the view of an overlay edit still reaches its
    base table's through the view."""
    monkeypatch.setenv("DATABASE_URL", own_database)
    get_settings.cache_clear()
    run_gis("load", str(write(parcel_frame(60), open_tmp / "thua.shp")), "--layer",
            "cadastral_parcels", "--force", check=True)
    layer = get_layer_def("cadastral_parcels")
    with psycopg.connect(own_database, autocommit=True, row_factory=dict_row) as c:
        def partial(version: int) -> list[str]:
            return [r["indexname"] for r in c.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'data' AND tablename = %s "
                "AND indexdef LIKE '%%WHERE%%' ORDER BY indexname",
                (f"cadastral_parcels__v{version}",))]

        loaded = c.execute("SELECT current_version AS v FROM spp.layers WHERE id = %s",
                           ("cadastral_parcels",)).fetchone()["v"]
        assert len(partial(loaded)) == 1
        fids = [r["fid"] for r in c.execute(
            "SELECT fid FROM data.cadastral_parcels ORDER BY fid LIMIT 2")]
        r = edits.apply(c, layer, [Op("update", fids[0], {"properties": {
            "land_use_code": "ODT"}})], "x", {})
        assert r.strategy == "overlay" and partial(r.version) == []
        with c.transaction():
            c.execute("SET LOCAL enable_seqscan = off")
            plan = "\n".join(p["QUERY PLAN"] for p in c.execute(sql.SQL(
                "EXPLAIN SELECT d.fid FROM data.{} d WHERE d.geom && "
                "ST_MakeEnvelope(105.77, 10.02, 105.80, 10.05, 4326) AND {}").format(
                sql.Identifier(f"cadastral_parcels__v{r.version}"),
                overview.big_enough(layer.tiles, 12, overview.stored_box()))).fetchall())
        assert any(name in plan for name in partial(loaded)), plan

        monkeypatch.setenv("SPP_EDIT_OVERLAY_MAX_ROWS", "0")
        get_settings.cache_clear()
        r = edits.apply(c, layer, [Op("update", fids[1], {"properties": {
            "land_use_code": "ODT"}})], "x", {})
        assert r.strategy == "table" and len(partial(r.version)) == 1
