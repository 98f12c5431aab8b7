"""OGC API - Features Part 4 on a real `gis serve` (its pool as the read-only web role), with
OWSLib's Part 4 calls and plain HTTP: create / replace / patch / delete, If-Match (412, 428),
two editors racing, an edit during a `gis load`, VN-2000 input, the loader's refusals,
hostile bodies, who may edit, personal fields, rollback of an edit version."""

from __future__ import annotations

import json
import subprocess
import threading
import time

import geopandas as gpd
import httpx
import numpy as np
import psycopg
import pytest
import shapely
from owslib.ogcapi.features import Features
from psycopg.rows import dict_row

from gis.versions import lock_key
from tests.builders import parcel_frame, write
from tests.conftest import GIS, ROOT, run_gis, serve
from tests.ogc_fixtures import REGRESSION

TREES = [(105.780, 10.030), (105.781, 10.031), (105.782, 10.032)]
GEOJSON = "application/geo+json"
MERGE = "application/merge-patch+json"


def trees_frame(n_extra: int = 0, height: float = 10) -> gpd.GeoDataFrame:
    codes = [f"C-{i}" for i in range(3)] + [f"N-{i}" for i in range(n_extra)]
    rng = np.random.default_rng(1)
    pts = TREES + list(zip(105.70 + rng.random(n_extra) * 0.15, 9.98 + rng.random(n_extra) * 0.1,
                           strict=True))
    return gpd.GeoDataFrame({"MaCay": codes, "TenCay": ["Sao"] * len(codes),
                             "ChieuCao": [height] * len(codes)},
                            geometry=[shapely.Point(*p) for p in pts], crs="OGC:CRS84")


def key(name: str, department: str, *extra: str) -> str:
    return run_gis("keys", "create", "--name", name, "--department", department, *extra,
                   check=True).stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def api(own_database, session_dir):
    folder = session_dir / "edits_api"
    folder.mkdir(mode=0o755, exist_ok=True)
    run_gis("load", str(write(trees_frame(), folder / "cay.geojson")), "--layer", "trees",
            check=True)
    pipes = gpd.GeoDataFrame({"MaOng": ["ONG-1"]}, geometry=[shapely.LineString(
        [(105.78, 10.03), (105.79, 10.04)])], crs="OGC:CRS84")
    run_gis("load", str(write(pipes, folder / "ong.geojson")), "--layer", "water_pipes",
            check=True)
    run_gis("load", str(write(parcel_frame(20, CCCD=[f"0921{i:08d}" for i in range(20)]),
                              folder / "thua.shp")), "--layer", "cadastral_parcels", check=True)
    keys = {"sxd": key("SXD cây xanh", "sxd"), "ca": key("PCCC", "ca"),
            "snnmt": key("VP đăng ký", "snnmt"),
            "snnmt_personal": key("VP đăng ký (chủ)", "snnmt", "--personal",
                                  "cadastral_parcels.owner_name")}
    with serve(own_database, folder / "serve.log", SPP_RATE_IP_PER_S="0",
               SPP_RATE_KEY_PER_S="0", SPP_EDIT_LOCK_WAIT_S="1") as root:
        with httpx.Client(base_url=root + "/ogc", timeout=60) as c:
            yield {"root": root, "c": c, "keys": keys, "folder": folder, "db": own_database}


def auth(api, who: str = "sxd") -> dict:
    return {"Authorization": f"Bearer {api['keys'][who]}"}


def tree(code: str, lon: float, lat: float, **props) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"tree_code": code, **props}}


def create(api, body: dict, who: str = "sxd", **headers) -> httpx.Response:
    return api["c"].post("/collections/trees/items", content=json.dumps(body),
                         headers={**auth(api, who), "Content-Type": GEOJSON, **headers})


def get(api, fid: int, who: str | None = "sxd", **params) -> httpx.Response:
    return api["c"].get(f"/collections/trees/items/{fid}", params=params,
                        headers=auth(api, who) if who else {})


def test_owslib_create_replace_delete_and_http_patch(api):
    c = api["c"]
    ows = Features(api["root"] + "/ogc")
    # a dict of our own: OWSLib updates its module-wide default headers in place, which
    # would send this key with every later OWSLib request in the session
    ows.headers = {**ows.headers, **auth(api)}
    assert ows.collection_item_create("trees", tree("O-1", 105.7801, 10.0301, species="Dầu"))
    fid = c.get("/collections/trees/items", params={"tree_code": "O-1"}).json()[
        "features"][0]["id"]
    r = get(api, fid)
    assert r.status_code == 200 and r.json()["properties"]["species"] == "Dầu"
    etag = r.headers["etag"]
    ows.headers.update({"If-Match": etag, "Content-Type": GEOJSON})
    assert ows.collection_item_update("trees", str(fid), json.dumps(
        tree("O-1", 105.7802, 10.0302, species="Sao", height=4.5)))
    r = get(api, fid)
    assert r.json()["properties"]["species"] == "Sao" and r.json()["properties"]["height"] == 4.5
    assert r.json()["geometry"]["coordinates"] == pytest.approx([105.7802, 10.0302], abs=1e-9)
    assert r.headers["etag"] != etag  # the feature changed, so did its ETag

    # PATCH: a JSON Merge Patch; null removes a value, the rest stays
    p = c.patch(f"/collections/trees/items/{fid}", content=json.dumps(
        {"properties": {"height": 6, "species": None}}),
        headers={**auth(api), "Content-Type": MERGE, "If-Match": r.headers["etag"]})
    assert p.status_code == 200, p.text
    after = get(api, fid)
    assert after.headers["etag"] == p.headers["etag"]  # the answer names the new state
    props = after.json()["properties"]
    assert props["height"] == 6 and props["species"] is None and props["tree_code"] == "O-1"
    assert after.json()["geometry"]["coordinates"] == pytest.approx([105.7802, 10.0302],
                                                                    abs=1e-9)

    ows.headers["If-Match"] = after.headers["etag"]
    assert ows.collection_item_delete("trees", str(fid))
    assert get(api, fid).status_code == 404

    # POST answers 201 with Location and the new feature's ETag
    r = create(api, tree("O-2", 105.7803, 10.0303))
    assert r.status_code == 201, r.text
    assert r.headers["location"].endswith(f"/ogc/collections/trees/items/{r.json()['id']}")
    assert c.get(r.headers["location"], headers=auth(api)).headers["etag"] == r.headers["etag"]


def test_if_match_is_required_and_checked(api):
    c = api["c"]
    fid = create(api, tree("P-1", 105.7804, 10.0304)).json()["id"]
    url = f"/collections/trees/items/{fid}"
    body = json.dumps({"properties": {"height": 2}})
    no = c.patch(url, content=body, headers={**auth(api), "Content-Type": MERGE})
    assert no.status_code == 428 and "If-Match" in no.json()["description"]
    assert c.delete(url, headers=auth(api)).status_code == 428
    etag = get(api, fid).headers["etag"]
    # the ETag of another representation of the same feature is as good
    other = get(api, fid, crs="http://www.opengis.net/def/crs/EPSG/0/5897").headers["etag"]
    assert other != etag
    ok = c.patch(url, content=body, headers={**auth(api), "Content-Type": MERGE,
                                             "If-Match": other})
    assert ok.status_code == 200, ok.text
    stale = c.patch(url, content=json.dumps({"properties": {"height": 3}}),
                    headers={**auth(api), "Content-Type": MERGE, "If-Match": etag})
    assert stale.status_code == 412
    assert get(api, fid).json()["properties"]["height"] == 2
    assert c.delete(url, headers={**auth(api), "If-Match": etag}).status_code == 412
    assert c.delete(url, headers={**auth(api), "If-Match": '"nonsense"'}).status_code == 412
    assert get(api, fid).status_code == 200


def test_two_editors_racing_one_wins_the_other_412(api):
    fid = create(api, tree("R-1", 105.7805, 10.0305)).json()["id"]
    etag = get(api, fid).headers["etag"]
    barrier = threading.Barrier(2)
    out: dict[int, httpx.Response] = {}

    def edit(height: int) -> None:
        with httpx.Client(base_url=api["root"] + "/ogc", timeout=60) as c:
            barrier.wait()
            out[height] = c.put(f"/collections/trees/items/{fid}",
                                content=json.dumps(tree("R-1", 105.7805, 10.0305,
                                                        height=height)),
                                headers={**auth(api), "Content-Type": GEOJSON,
                                         "If-Match": etag})

    threads = [threading.Thread(target=edit, args=(h,)) for h in (11, 22)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in out.values())
    assert codes == [200, 412], {h: (r.status_code, r.text) for h, r in out.items()}
    winner = next(h for h, r in out.items() if r.status_code == 200)
    assert get(api, fid).json()["properties"]["height"] == winner


def test_an_edit_during_a_load_waits_or_is_told_to_retry_and_nothing_is_lost(api):
    """`gis load --mode upsert` holds the layer lock: the edit gets 409 + Retry-After within
    the lock wait (1 s here), never a 5xx; retried after the load, both changes are there."""
    c, folder = api["c"], api["folder"]
    fid = c.get("/collections/trees/items", params={"tree_code": "C-0"}).json()[
        "features"][0]["id"]
    etag = get(api, fid).headers["etag"]
    big = write(trees_frame(60_000, height=33), folder / "cay_nhieu.geojson")
    load = subprocess.Popen([*GIS, "load", str(big), "--layer", "trees", "--mode", "upsert",
                             "--allow-shift"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        with psycopg.connect(api["db"], autocommit=True, row_factory=dict_row) as conn:
            deadline = time.monotonic() + 60
            while not conn.execute(
                    "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
                    "objid::bigint = %s", (lock_key("trees"),)).fetchone():
                assert load.poll() is None and time.monotonic() < deadline, load.stdout.read()
                time.sleep(0.02)
        t0 = time.monotonic()
        busy = c.patch(f"/collections/trees/items/{fid}", content=json.dumps(
            {"properties": {"species": "Sao đen"}}),
            headers={**auth(api), "Content-Type": MERGE, "If-Match": etag})
        assert busy.status_code == 409, busy.text
        assert int(busy.headers["retry-after"]) > 0 and time.monotonic() - t0 < 10
    finally:
        out, _ = load.communicate(timeout=600)
    assert load.returncode == 0, out
    # the load changed C-0 (height 33): the old ETag is stale, a fresh read edits on top
    assert c.patch(f"/collections/trees/items/{fid}", content=json.dumps(
        {"properties": {"species": "Sao đen"}}), headers={
        **auth(api), "Content-Type": MERGE, "If-Match": etag}).status_code == 412
    etag = get(api, fid).headers["etag"]
    ok = c.patch(f"/collections/trees/items/{fid}", content=json.dumps(
        {"properties": {"species": "Sao đen"}}),
        headers={**auth(api), "Content-Type": MERGE, "If-Match": etag})
    assert ok.status_code == 200, ok.text
    props = get(api, fid).json()["properties"]
    assert props["species"] == "Sao đen" and props["height"] == 33
    n = c.get("/collections/trees/items", params={"tree_code": "N-59999"}).json()
    assert n["numberReturned"] == 1


def test_vn2000_input_is_transformed_through_epsg_6960(api):
    (lon, lat), planes = REGRESSION["Ninh Kiều"]
    for epsg, (e, n) in planes.items():
        uri = f"http://www.opengis.net/def/crs/EPSG/0/{epsg}"
        r = create(api, tree(f"VN-{epsg}", e, n), **{"Content-Crs": f"<{uri}>"})
        assert r.status_code == 201, r.text
        back = get(api, r.json()["id"]).json()["geometry"]["coordinates"]
        assert abs(back[0] - lon) < 9e-9 and abs(back[1] - lat) < 9e-9, epsg  # < 1 mm
        plane = get(api, r.json()["id"], crs=uri).json()["geometry"]["coordinates"]
        assert abs(plane[0] - e) < 1e-3 and abs(plane[1] - n) < 1e-3, epsg
    # EPSG:4326 is latitude first
    r = create(api, tree("LATLON", 10.0306, 105.7806),
               **{"Content-Crs": "<http://www.opengis.net/def/crs/EPSG/0/4326>"})
    assert get(api, r.json()["id"]).json()["geometry"]["coordinates"] == pytest.approx(
        [105.7806, 10.0306], abs=1e-9)
    bad = create(api, tree("X", 1, 2), **{"Content-Crs": "<urn:nonsense>"})
    assert bad.status_code == 400 and "Content-Crs" in bad.json()["description"]


def test_invalid_features_are_refused_with_the_loaders_message(api):
    folder = api["folder"]
    outside = gpd.GeoDataFrame({"MaCay": ["X-1"]}, geometry=[shapely.Point(106.9, 10.5)],
                               crs="OGC:CRS84")
    load = run_gis("load", str(write(outside, folder / "ngoai.geojson")), "--layer", "trees",
                   "--mode", "append", "--source-crs", "EPSG:4326")
    assert load.returncode != 0
    r = create(api, tree("X-1", 106.9, 10.5))
    assert r.status_code == 400
    reason = r.json()["description"].split(": ", 1)[1]
    assert reason.startswith("coordinates do not fit Cần Thơ")
    assert " ".join(reason.split()) in " ".join((load.stderr + load.stdout).split())

    for body, message in [
        (tree(None, 105.78, 10.03), "tree_code (Mã cây) is empty but required"),
        ({"type": "Feature", "properties": {"tree_code": "L"}, "geometry": {
            "type": "LineString", "coordinates": [[105.78, 10.03], [105.79, 10.04]]}},
         "LineString geometry does not fit the layer's Point type"),
        ({"type": "Feature", "properties": {"tree_code": "E"}, "geometry": None},
         "no geometry"),
        (tree("U", 105.78, 10.03, colour="xanh"), "unknown properties 'colour'"),
        (tree("C-1", 105.78, 10.03), "tree_code 'C-1' already in the layer"),
    ]:
        r = create(api, body)
        assert r.status_code in (400, 409) and message in r.json()["description"], r.text


@pytest.mark.parametrize("body,ctype,status", [
    (b"{not json", GEOJSON, 400),
    (b"[" * 5000 + b"]" * 5000, GEOJSON, 400),
    (b'{"type": "FeatureCollection", "features": []}', GEOJSON, 400),
    (b'{"type": "Feature", "geometry": {"type": "Point", "coordinates": "x"}, '
     b'"properties": {"tree_code": "H"}}', GEOJSON, 400),
    (b'{"type": "Feature", "geometry": {"type": "Point", "coordinates": [105.78, 10.03]}, '
     b'"properties": {"tree_code": {"a": 1}}}', GEOJSON, 400),
    (b'{"type": "Feature", "geometry": {"type": "Point", "coordinates": [105.78, 10.03]}, '
     b'"properties": {"tree_code": "a\\u0000b"}}', GEOJSON, 400),
    (b'{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1e999, 10.03]}, '
     b'"properties": {"tree_code": "inf"}}', GEOJSON, 400),
    (b'{"type": "Feature"}', "text/plain", 415),
    (b'{"type": "Feature", "properties": {"species": "' + b"x" * 1_100_000 + b'"}}',
     GEOJSON, 413),
])
def test_hostile_bodies_are_4xx(api, body, ctype, status):
    before = api["c"].get("/collections/trees/items", params={"limit": 1}).json()
    r = api["c"].post("/collections/trees/items", content=body,
                      headers={**auth(api), "Content-Type": ctype})
    assert r.status_code == status, r.text
    after = api["c"].get("/collections/trees/items", params={"limit": 1}).json()
    assert after.get("numberMatched") == before.get("numberMatched")


def test_who_may_edit(api):
    c = api["c"]
    body = json.dumps(tree("W-1", 105.78, 10.03))
    public = c.post("/collections/trees/items", content=body,
                    headers={"Content-Type": GEOJSON})
    assert public.status_code == 401 and "WWW-Authenticate" in public.headers
    other = c.post("/collections/trees/items", content=body,
                   headers={**auth(api, "ca"), "Content-Type": GEOJSON})
    assert other.status_code == 403
    fid = create(api, tree("W-2", 105.7807, 10.0307)).json()["id"]
    etag = get(api, fid).headers["etag"]
    for who, status in ((None, 401), ("ca", 403)):
        r = c.delete(f"/collections/trees/items/{fid}",
                     headers={**(auth(api, who) if who else {}), "If-Match": etag})
        assert r.status_code == status
    # restricted layer: as missing to whoever may not see it, edit or not
    for who in (None, "ca"):
        r = c.post("/collections/water_pipes/items", content=body,
                   headers={**(auth(api, who) if who else {}), "Content-Type": GEOJSON})
        assert r.status_code == 404
    # seen but read-only: 405
    r = c.post("/collections/water_pipes/items", content=body,
               headers={**auth(api, "sxd"), "Content-Type": GEOJSON})
    assert r.status_code == 405
    assert get(api, fid).status_code == 200


def test_personal_fields_only_for_those_granted(api):
    c = api["c"]
    items = c.get("/collections/cadastral_parcels/items", params={"limit": 1},
                  headers=auth(api, "snnmt")).json()["features"][0]
    url = f"/collections/cadastral_parcels/items/{items['id']}"
    assert "owner_name" not in items["properties"]
    etag = c.get(url, headers=auth(api, "snnmt")).headers["etag"]
    hidden = c.patch(url, content=json.dumps({"properties": {"owner_name": "Ai đó"}}),
                     headers={**auth(api, "snnmt"), "Content-Type": MERGE, "If-Match": etag})
    assert hidden.status_code == 400 and "unknown properties 'owner_name'" in hidden.text
    ok = c.patch(url, content=json.dumps({"properties": {"address": "Số 1 đường 3/2"}}),
                 headers={**auth(api, "snnmt"), "Content-Type": MERGE, "If-Match": etag})
    assert ok.status_code == 200, ok.text
    granted = c.get(url, headers=auth(api, "snnmt_personal"))
    owner = granted.json()["properties"]["owner_name"]
    assert owner in ("Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường")  # kept by the edit
    assert granted.json()["properties"]["address"] == "Số 1 đường 3/2"
    r = c.patch(url, content=json.dumps({"properties": {"owner_name": "Phạm Văn Dũng"}}),
                headers={**auth(api, "snnmt_personal"), "Content-Type": MERGE,
                         "If-Match": granted.headers["etag"]})
    assert r.status_code == 200, r.text
    assert c.get(url, headers=auth(api, "snnmt_personal")).json()["properties"][
        "owner_name"] == "Phạm Văn Dũng"
    assert "Phạm Văn Dũng" not in c.get(url).text  # the public never sees it


def test_rollback_of_an_edit_version_and_its_lineage(api):
    c = api["c"]
    fid = create(api, tree("RB-1", 105.7808, 10.0308, height=10)).json()["id"]
    etag = get(api, fid).headers["etag"]
    r = c.patch(f"/collections/trees/items/{fid}", content=json.dumps(
        {"properties": {"height": 99}}), headers={**auth(api), "Content-Type": MERGE,
                                                  "If-Match": etag})
    version = r.json()["version"]
    history = run_gis("layer", "history", "trees", env={"COLUMNS": "300"},
                      check=True).stdout
    line = next(x for x in history.splitlines() if x.split("│")[1:2] == [f" {version} "])
    assert "edit" in line and "OGC API" in line and f"~1 -0 (fid {fid})" in line
    with psycopg.connect(api["db"], autocommit=True, row_factory=dict_row) as conn:
        row = conn.execute("SELECT * FROM spp.layer_versions WHERE layer_id = 'trees' AND "
                           "version = %s", (version,)).fetchone()
        assert row["mode"] == "edit" and row["operator"].endswith("SXD cây xanh")
        assert row["edits"]["updated"] == [fid] and row["edits"]["source"] == "OGC API"
        audit = conn.execute("SELECT actor, role, detail FROM spp.audit_log WHERE action = "
                             "'edit' AND layer_id = 'trees' ORDER BY id DESC LIMIT 1").fetchone()
        assert audit["role"] == "staff" and audit["detail"]["updated"] == [fid]
    run_gis("layer", "rollback", "trees", check=True)
    back = get(api, fid)  # the layer's view shows the version before the patch at once
    assert back.json()["properties"]["height"] == 10 and back.headers["etag"] == etag


def test_conformance_and_openapi_list_part_4(api):
    c = api["c"]
    conf = c.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete" in conf
    assert "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update" in conf
    doc = c.get("/openapi").json()
    items = doc["paths"]["/ogc/collections/{collectionId}/items"]
    assert GEOJSON in items["post"]["requestBody"]["content"]
    one = doc["paths"]["/ogc/collections/{collectionId}/items/{featureId}"]
    assert MERGE in one["patch"]["requestBody"]["content"]
    assert {"put", "patch", "delete"} <= set(one)
    assert "If-Match" in one["delete"]["description"] and "412" in one["delete"]["responses"]


def _mangled(rng, depth: int = 0):
    """A random JSON value: what a careless or hostile client may send anywhere."""
    kinds = ["str", "int", "float", "bool", "null", "list", "dict", "coords"]
    kind = rng.choice(kinds if depth < 4 else kinds[:5])
    if kind == "str":
        return rng.choice(["", "Point", "Feature", "\x00", "<script>", "ð" * 50, "1e400",
                           "2024-02-30", "NaN", "x" * rng.randint(0, 300)])
    if kind == "int":
        return rng.choice([0, -1, 2**31, 2**63 - 1, -(2**63), 10**18])
    if kind == "float":
        return rng.choice([1e308, -1e308, 5e-324, 105.78, 10.03, 0.1])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "coords":
        return [rng.uniform(-1e6, 1e6) for _ in range(rng.randint(0, 4))]
    if kind == "list":
        return [_mangled(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(["type", "geometry", "properties", "coordinates", "tree_code",
                        "height", "id", "bbox", "crs", "features"]): _mangled(rng, depth + 1)
            for _ in range(rng.randint(0, 5))}


def _feature_like(rng) -> dict:
    geom_type = rng.choice(["Point", "MultiPoint", "LineString", "Polygon", "GeometryCollection",
                            "Nonsense", None])
    coords = rng.choice([[105.78, 10.03], [[105.78, 10.03]], [[[105.78, 10.03]] * 4],
                         [], "x", [None, None], [1e308, 1e308], _mangled(rng)])
    props = {rng.choice(["tree_code", "height", "species", "heritage", "planting_year",
                         "condition", "bogus"]): _mangled(rng) for _ in range(rng.randint(0, 6))}
    doc = {"type": rng.choice(["Feature", "Feature", "FeatureCollection", None]),
           "geometry": rng.choice([{"type": geom_type, "coordinates": coords}, None,
                                   _mangled(rng)]),
           "properties": rng.choice([props, props, None, _mangled(rng)])}
    if rng.random() < 0.2:
        doc.pop(rng.choice(list(doc)))
    return doc


def test_generated_edit_bodies_never_give_a_server_error(api):
    import random

    rng = random.Random(20261130)
    c = api["c"]
    fid = create(api, tree("FZ-1", 105.7809, 10.0309)).json()["id"]
    url = f"/collections/trees/items/{fid}"
    statuses = {}
    for i in range(300):
        doc = _feature_like(rng) if i % 3 else _mangled(rng)
        body = json.dumps(doc).encode()
        method = rng.choice(["POST", "PUT", "PATCH"])
        headers = {**auth(api), "Content-Type": MERGE if method == "PATCH" else GEOJSON,
                   "Content-Crs": rng.choice(["", "<http://www.opengis.net/def/crs/EPSG/0/5897>",
                                              "<x>", "EPSG:99999"])}
        if method != "POST":
            headers["If-Match"] = get(api, fid).headers["etag"] if rng.random() < 0.8 else "*"
        r = c.request(method, "/collections/trees/items" if method == "POST" else url,
                      content=body, headers=headers)
        assert r.status_code < 500, (method, doc, r.text)
        assert r.headers["content-type"].startswith("application/json") or r.status_code == 204
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    assert set(statuses) - {200, 201} and statuses.keys() & {200, 201}  # both kinds seen
    assert get(api, fid).status_code in (200, 404)
    assert c.get("/collections/trees/items", params={"limit": 1}).status_code == 200


def test_schemathesis_on_the_edit_routes_with_a_credential(api, session_dir):
    """The OpenAPI-generated fuzz of tests/test_schemathesis.py, on the edit routes only, as
    an editor (with If-Match: * so bodies get past the precondition). Last in this module:
    it deletes the pinned feature."""
    import os
    import sys
    from pathlib import Path

    c = api["c"]
    fid = create(api, tree("ST-1", 105.781, 10.0311)).json()["id"]
    config = session_dir / "schemathesis_edits.toml"
    config.write_text(f'[parameters]\n"path.collectionId" = "trees"\n'
                      f'"path.featureId" = "{fid}"\n')
    exe = Path(sys.executable).with_name("schemathesis")
    cmd = [str(exe), "--config-file", str(config), "run", f"{api['root']}/ogc/openapi",
           "--url", api["root"], "--checks", "not_a_server_error", "--include-tag", "Edit",
           "-H", f"Authorization: Bearer {api['keys']['sxd']}", "-H", "If-Match: *",
           "--mode", "all", "--max-examples", "60", "--seed", "20261130",
           "--phases", "examples,coverage,fuzzing", "--workers", "1",
           "--generation-allow-x00", "true", "--generation-codec", "utf-8",
           "--generation-database", "none", "--request-timeout", "30", "--no-color"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=session_dir,
                          env={**os.environ, "NO_COLOR": "1"})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert " passed" in out and "Tested: 4" in out, out[-3000:]
    assert c.get("/collections/trees/items", params={"limit": 1}).status_code == 200
