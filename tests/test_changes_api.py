"""GET /ogc/collections/{id}/changes on a real `gis serve` (web role spp_web): every change
once, in order, across pages; `since` a version (its latest publication), `cursor` a
position; bounded parameters; access rules (a restricted layer is a 404 to the public and to
other departments; who made a change is shown to staff only); in the OpenAPI document."""

from __future__ import annotations

import geopandas as gpd
import httpx
import pytest
import shapely

from gis import changefeed
from tests.access_fixtures import make_key
from tests.builders import write
from tests.conftest import run_gis, serve

HYDRANTS, PIPES = "fire_hydrants", "water_pipes"


@pytest.fixture(scope="module")
def feed(own_database, session_dir):
    """Both layers loaded (public and restricted), keys, and a server on this database."""
    folder = session_dir / "changes_api"
    folder.mkdir(mode=0o755, exist_ok=True)
    hydrants = gpd.GeoDataFrame(
        {"MaTru": ["TN-1", "TN-2"], "LoaiTru": ["trụ nổi", "trụ âm"], "DuongKinh": [100, 125]},
        geometry=[shapely.Point(105.78, 10.03), shapely.Point(105.781, 10.031)],
        crs="OGC:CRS84")
    run_gis("load", str(write(hydrants, folder / "tru.geojson")), "--layer", HYDRANTS,
            "--force", env={"SPP_OPERATOR": "tran.thi.binh"}, check=True)
    pipes = gpd.GeoDataFrame(
        {"MaOng": ["ONG-1"], "DuongKinh": [200]},
        geometry=[shapely.LineString([(105.78, 10.03), (105.79, 10.04)])], crs="OGC:CRS84")
    run_gis("load", str(write(pipes, folder / "ong.geojson")), "--layer", PIPES, "--force",
            env={"SPP_OPERATOR": "le.van.cuong"}, check=True)
    keys = {"wasuco": make_key("Cấp nước", "cantho_wasuco"), "other": make_key("STC", "stc")}
    with serve(own_database, session_dir / "changes_api.log") as root:
        with httpx.Client(base_url=root + "/ogc/collections", timeout=30) as client:
            yield {"client": client, "keys": keys}


def get(feed, path: str, who: str | None = None, **params) -> httpx.Response:
    headers = {"X-API-Key": feed["keys"][who]} if who else {}
    return feed["client"].get(path, params=params, headers=headers)


def test_every_change_once_in_order_across_pages(feed, own_conn):
    start = get(feed, f"/{HYDRANTS}/changes", limit=10000).json()
    fids = sorted(r["fid"] for r in own_conn.execute("SELECT fid FROM data.fire_hydrants"))
    assert [(c["change"], c["featureId"], c["action"]) for c in start["changes"]] == [
        ("created", f, "load") for f in fids]  # the module's database: one load so far
    expected = []
    for version, n in ((501, 10), (502, 7), (503, 5)):  # simulated edit transactions
        ids = list(range(version * 100, version * 100 + n))
        with own_conn.transaction():
            changefeed.record(own_conn, HYDRANTS, version, "an.nguyen", created=ids[:2],
                              updated=ids[2:-1], deleted=ids[-1:])
        expected += [(version, "created", i) for i in ids[:2]] + \
            [(version, "updated", i) for i in ids[2:-1]] + [(version, "deleted", ids[-1])]
    got, pages = [], 0
    url, params = f"/{HYDRANTS}/changes", {"cursor": start["resume"], "limit": 4}
    while url:
        body = feed["client"].get(url, params=params).json()
        pages += 1
        got += [(c["version"], c["change"], c["featureId"]) for c in body["changes"]]
        assert body["numberReturned"] == len(body["changes"]) <= 4
        url = next((lk["href"] for lk in body["links"] if lk["rel"] == "next"), None)
        params = None
    assert got == expected and pages == 6  # 22 changes, 4 a page
    seqs = [c["seq"] for c in get(feed, f"/{HYDRANTS}/changes", cursor=start["resume"]
                                  ).json()["changes"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == 22
    # polling from the end: nothing new, the same resume position
    end = body["resume"]
    assert get(feed, f"/{HYDRANTS}/changes", cursor=end).json() | {"links": None} == {
        "collection": HYDRANTS, "currentVersion": body["currentVersion"], "changes": [],
        "numberReturned": 0, "resume": end, "links": None}
    # since a version: what was published after it
    assert [c["version"] for c in get(feed, f"/{HYDRANTS}/changes", since=501).json()[
        "changes"]] == [502] * 7 + [503] * 5
    assert get(feed, f"/{HYDRANTS}/changes", since=503).json()["changes"] == []
    # v502 published again (a rollback to it): since=502 means after that latest publication
    with own_conn.transaction():
        changefeed.record(own_conn, HYDRANTS, 502, "an.nguyen", deleted=[50399],
                          action="rollback")
    assert get(feed, f"/{HYDRANTS}/changes", since=502).json()["changes"] == []
    after = get(feed, f"/{HYDRANTS}/changes", since=503).json()["changes"]
    assert [(c["action"], c["change"], c["featureId"]) for c in after] == [
        ("rollback", "deleted", 50399)]


def test_a_load_is_in_the_feed_with_its_version_and_time(feed, own_conn):
    row = own_conn.execute("SELECT current_version FROM spp.layers WHERE id = %s",
                           (PIPES,)).fetchone()
    body = get(feed, f"/{PIPES}/changes", "wasuco").json()
    fid = own_conn.execute("SELECT fid FROM data.water_pipes").fetchone()["fid"]
    assert [(c["version"], c["change"], c["featureId"], c["action"], c["operator"])
            for c in body["changes"]] == [
        (row["current_version"], "created", fid, "load", "le.van.cuong")]
    assert body["changes"][0]["time"].startswith("20")
    assert body["currentVersion"] == row["current_version"]


def test_access_rules(feed):
    # the public and another department: a restricted layer's feed is a missing one
    for who in (None, "other"):
        hidden = get(feed, f"/{PIPES}/changes", who)
        missing = get(feed, "/no_such_lay/changes", who)
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["description"].replace(PIPES, "no_such_lay") == \
            missing.json()["description"]
    seen = get(feed, f"/{PIPES}/changes", "wasuco")
    assert seen.status_code == 200 and seen.json()["changes"]
    assert all(c["operator"] == "le.van.cuong" for c in seen.json()["changes"])
    # a public layer: everyone sees the ids, only staff who changed them
    public = get(feed, f"/{HYDRANTS}/changes").json()["changes"]
    assert public and all("operator" not in c for c in public)
    assert "tran.thi.binh" not in get(feed, f"/{HYDRANTS}/changes").text
    staff = get(feed, f"/{HYDRANTS}/changes", "other").json()["changes"]
    assert any(c.get("operator") == "tran.thi.binh" for c in staff)
    assert get(feed, "/orthophoto/changes").status_code == 404


@pytest.mark.parametrize("params,words", [
    ({"limit": "0"}, "limit=0 is outside 1..10000"),
    ({"limit": "10001"}, "outside 1..10000"),
    ({"limit": "x"}, "not an integer"),
    ({"since": "-1"}, "outside"), ({"since": "2147483648"}, "outside"),
    ({"cursor": str(2**63)}, "outside"),
    ({"since": "1", "cursor": "1"}, "not both"),
    ({"since": "99999"}, "has no version 99999"),
    ({"sort": "x"}, "unknown parameter 'sort'"),
    ({"f": "xml"}, "f='xml' is not offered"),
    ({"cursor": "1\x00"}, "NUL"),
])
def test_bad_parameters_are_a_clear_400(feed, params, words):
    r = get(feed, f"/{HYDRANTS}/changes", **params)
    assert r.status_code == 400 and words in r.json()["description"], r.text


def test_in_the_openapi_document(feed):
    doc = feed["client"].get("/../openapi").json()
    op = doc["paths"]["/ogc/collections/{collectionId}/changes"]["get"]
    assert {p["name"] for p in op["parameters"]} >= {"collectionId", "since", "cursor",
                                                     "limit", "f"}
    assert set(op["responses"]) >= {"200", "400", "404"}


def test_the_current_version_from_before_the_feed_began(feed, own_conn):
    """A layer loaded before the change feed existed (no change set for its current version):
    a client holding that version gets what changed since: nothing, then (after an edit
    published a new version) that edit."""
    conn = own_conn
    current = conn.execute("SELECT current_version AS v FROM spp.layers WHERE id = %s",
                           (PIPES,)).fetchone()["v"]
    conn.execute("DELETE FROM spp.change_sets WHERE layer_id = %s", (PIPES,))
    r = get(feed, f"/{PIPES}/changes", "wasuco", since=current)
    assert r.status_code == 200 and r.json()["changes"] == []
    with conn.transaction():  # an edit publishing version current + 1 (as `edits` does)
        conn.execute("INSERT INTO spp.layer_versions (layer_id, version, status, mode, "
                     "parent_version, table_name, operator) SELECT layer_id, version + 1, "
                     "'loading', 'upsert', version, table_name, 'le.van.cuong' FROM "
                     "spp.layer_versions WHERE layer_id = %s AND version = %s",
                     (PIPES, current))
        conn.execute("UPDATE spp.layer_versions SET status = 'superseded' WHERE layer_id = %s "
                     "AND version = %s", (PIPES, current))
        conn.execute("UPDATE spp.layer_versions SET status = 'current' WHERE layer_id = %s "
                     "AND version = %s", (PIPES, current + 1))
        conn.execute("UPDATE spp.layers SET current_version = %s WHERE id = %s",
                     (current + 1, PIPES))
        changefeed.record(conn, PIPES, current + 1, "le.van.cuong", updated=[7])
    import time

    time.sleep(1.5)  # the catalog is re-read after at most a second
    assert [(c["change"], c["featureId"], c["version"]) for c in get(
        feed, f"/{PIPES}/changes", "wasuco", since=current).json()["changes"]] == [
        ("updated", 7, current + 1)]
    assert get(feed, f"/{PIPES}/changes", "wasuco", since=current + 1).json()["changes"] == []
    r = get(feed, f"/{PIPES}/changes", "wasuco", since=current + 7)
    assert r.status_code == 400 and f"first recorded version is v{current}" in r.text
