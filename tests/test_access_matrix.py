"""Who sees what, exactly: principal × layer × endpoint against a real `gis serve` that
connects as the read-only role and resolves API keys and OIDC tokens.

Layers: cadastral_parcels (public, with personal owner fields), water_pipes (restricted to
cantho_wasuco + sxd), telecom_lines (internal: any staff). Principals: the public, staff keys
of sxd, cantho_wasuco and stc (a department with no special rights), a snnmt key granted the
parcels' personal fields, an admin key and an OIDC token of a sxd officer.
"""

from __future__ import annotations

import csv
import io
import math

import httpx
import pyogrio
import pytest

from tests.access_fixtures import PIPE_SECRET, TELECOM_SECRET
from tests.ogc_fixtures import SECRET_IDS, SECRET_NAMES

pytest_plugins = ["tests.access_fixtures"]

LAYERS = ("cadastral_parcels", "water_pipes", "telecom_lines")
PRINCIPALS = ("public", "sxd", "wasuco", "other", "personal", "admin", "oidc_sxd")
SEES = {
    "cadastral_parcels": set(PRINCIPALS),
    "water_pipes": {"sxd", "wasuco", "admin", "oidc_sxd"},
    "telecom_lines": set(PRINCIPALS) - {"public"},
}
SEES_PERSONAL = {"personal", "admin"}
LAYER_SECRET = {"water_pipes": PIPE_SECRET, "telecom_lines": TELECOM_SECRET}


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    r = math.radians(lat)
    y = int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n)
    return z, y, x


@pytest.fixture(scope="module")
def headers(keys, oidc):
    return {
        "public": {},
        "sxd": {"Authorization": f"Bearer {keys['sxd']}"},
        "wasuco": {"X-API-Key": keys["wasuco"]},
        "other": {"X-API-Key": keys["other"]},
        "personal": {"X-API-Key": keys["personal"]},
        "admin": {"Authorization": f"Bearer {keys['admin']}"},
        "oidc_sxd": {"Authorization": "Bearer " + oidc["token"](
            sub="tran.thi.lan", department="sxd", roles=["staff"])},
    }


@pytest.fixture(scope="module")
def web(access_server):
    with httpx.Client(base_url=access_server, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def fids(access_data):
    from gis import db

    with db.connect() as conn:
        return {lid: conn.execute(f"SELECT min(fid) AS f FROM data.{lid}").fetchone()["f"]
                for lid in LAYERS}


def _private_ok(r: httpx.Response, who: str):
    cc = r.headers.get("cache-control", "")
    if who == "public":
        assert cc.startswith("public"), cc
    else:
        assert cc.startswith("private"), (who, cc)


@pytest.mark.parametrize("who", PRINCIPALS)
def test_collections_list(web, headers, who):
    r = web.get("/collections", headers=headers[who])
    assert r.status_code == 200
    _private_ok(r, who)
    ids = {c["id"] for c in r.json()["collections"]}
    for layer in LAYERS:
        assert (layer in ids) == (who in SEES[layer]), (who, layer)
    html = web.get("/collections?f=html", headers=headers[who])
    assert html.status_code == 200
    for layer in LAYERS:
        assert (f"/collections/{layer}?" in html.text) == (who in SEES[layer]), (who, layer)


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("who", PRINCIPALS)
def test_layer_endpoints(web, headers, fids, who, layer):
    h = headers[who]
    sees = who in SEES[layer]
    z, y, x = tile_of(105.7801, 10.0301, 16)
    paths = [f"/collections/{layer}", f"/collections/{layer}?f=html",
             f"/collections/{layer}/queryables", f"/collections/{layer}/items",
             f"/collections/{layer}/items?f=html", f"/collections/{layer}/items/{fids[layer]}",
             f"/collections/{layer}/items/{fids[layer]}?f=html",
             f"/collections/{layer}/items?f=csv", f"/collections/{layer}/items?f=gpkg",
             f"/collections/{layer}/tiles/WebMercatorQuad/{z}/{y}/{x}"]
    for p in paths:
        r = web.get(p, headers=h)
        if sees:
            assert r.status_code in (200, 204), (who, p, r.status_code, r.text[:300])
            _private_ok(r, who)
        else:  # exactly the answer for a layer that does not exist
            assert r.status_code == 404, (who, p, r.status_code)
            twin = web.get(p.replace(layer, "no_such_layer"), headers=h)
            assert twin.status_code == 404
            assert r.json() == {**twin.json(), "description": twin.json()["description"]
                                .replace("no_such_layer", layer)}
            if layer in LAYER_SECRET:
                assert LAYER_SECRET[layer] not in r.text
    if sees and layer in LAYER_SECRET:
        body = web.get(f"/collections/{layer}/items?limit=100", headers=h).text
        assert LAYER_SECRET[layer] in body or "ONG-2" in body


@pytest.mark.parametrize("who", PRINCIPALS)
def test_personal_fields(web, headers, fids, who):
    h = headers[who]
    grant = who in SEES_PERSONAL
    base = "/collections/cadastral_parcels"
    q = web.get(f"{base}/queryables", headers=h).json()["properties"]
    assert ("owner_name" in q) == grant and ("owner_id_no" in q) == grant
    feat = web.get(f"{base}/items/{fids['cadastral_parcels']}", headers=h).json()
    assert ("owner_name" in feat["properties"]) == grant
    page = web.get(f"{base}/items?limit=500", headers=h).text
    assert any(n in page for n in SECRET_NAMES) == grant
    rows = list(csv.reader(io.StringIO(web.get(f"{base}/items?f=csv&limit=50",
                                               headers=h).text)))
    assert ("owner_id_no" in rows[0]) == grant
    gpkg = web.get(f"{base}/items?f=gpkg&limit=50", headers=h)
    frame = pyogrio.read_dataframe(io.BytesIO(gpkg.content))
    assert ("owner_name" in frame.columns) == grant and len(frame) == 50
    html = web.get(f"{base}/items?f=html&limit=200", headers=h).text
    assert any(n in html for n in SECRET_NAMES) == grant
    # filtering, sorting or selecting a hidden field is an unknown property (400), a
    # granted one works
    for params in ({"filter": f"owner_id_no='{SECRET_IDS[5]}'"}, {"sortby": "owner_name"},
                   {"properties": "owner_name"}, {"owner_name": SECRET_NAMES[0]}):
        r = web.get(f"{base}/items", params=params, headers=h)
        if grant:
            assert r.status_code == 200, (params, r.text)
        else:
            assert r.status_code == 400 and "unknown" in r.json()["description"]
            assert not any(s in r.text for s in SECRET_NAMES)
    if grant:
        r = web.get(f"{base}/items", params={"filter": f"owner_id_no='{SECRET_IDS[5]}'"},
                    headers=h)
        assert r.json()["numberReturned"] == 1


def test_openapi_is_the_same_for_everybody(web, headers):
    docs = {who: web.get("/openapi", headers=h) for who, h in headers.items()}
    assert all(r.status_code == 200 for r in docs.values())
    assert len({r.content for r in docs.values()}) == 1
    text = docs["public"].text
    for s in (*SECRET_NAMES, "owner_name", "owner_id_no", PIPE_SECRET, TELECOM_SECRET):
        assert s not in text


def test_etags_differ_per_scope(web, headers):
    seen = {}
    for who in ("public", "sxd", "wasuco", "personal", "admin"):
        r = web.get("/collections/cadastral_parcels/items?limit=5", headers=headers[who])
        seen[who] = r.headers["etag"]
        again = web.get("/collections/cadastral_parcels/items?limit=5",
                        headers={**headers[who], "If-None-Match": r.headers["etag"]})
        assert again.status_code == 304
    assert len(set(seen.values())) == len(seen), seen
    # another principal's validator never yields a 304 on this principal's copy
    r = web.get("/collections/cadastral_parcels/items?limit=5",
                headers={**headers["sxd"], "If-None-Match": seen["personal"]})
    assert r.status_code == 200 and "owner_name" not in r.text
    r = web.get("/collections/cadastral_parcels/items?limit=5",
                headers={"If-None-Match": seen["admin"]})
    assert r.status_code == 200 and "owner_name" not in r.text


def test_public_never_gets_an_owner_name_from_tiles_planning_or_errors(web, headers, fids,
                                                                       access_server):
    root = access_server.removesuffix("/ogc")
    secrets = [*SECRET_NAMES, *SECRET_IDS[:20], PIPE_SECRET, TELECOM_SECRET]
    bodies = []
    for z in (14, 16, 18):
        zz, y, x = tile_of(105.7801, 10.0301, z)
        bodies.append(web.get(f"/collections/cadastral_parcels/tiles/WebMercatorQuad/"
                              f"{zz}/{y}/{x}").content)
        bodies.append(web.get(f"/tiles/WebMercatorQuad/{zz}/{y}/{x}").content)
    fid = fids["cadastral_parcels"]
    for path in (f"/api/parcels/{fid}/planning", f"/api/parcels/{fid}/planning?f=html",
                 "/api/search?q=Nguyen", "/api/search?q=Tr%E1%BA%A7n%20Th%E1%BB%8B",
                 f"/api/export?layer=cadastral_parcels&fids={fid}",
                 f"/api/export?layer=cadastral_parcels&fids={fid}&f=csv",
                 f"/api/export?layer=water_pipes&fids={fids['water_pipes']}"):
        r = httpx.get(root + path, timeout=60)
        assert r.status_code < 500, (path, r.status_code)
        bodies.append(r.content)
    for path in ("/collections/water_pipes/items?filter=pipe_code='ONG-1'",
                 "/collections/cadastral_parcels/items?filter=owner_name LIKE 'Nguy%'",
                 "/collections/cadastral_parcels/items/999999999999",
                 "/collections/cadastral_parcels/items?limit=abc"):
        bodies.append(web.get(path).content)
    by_id = httpx.get(root + "/api/search", params={"q": SECRET_IDS[3]}, timeout=60).json()
    assert by_id["results"] == []  # an ID number finds nothing (only the query is echoed)
    for body in bodies:
        text = body.decode("utf-8", errors="replace")
        for s in secrets:
            assert s not in text, s
    # the same tile for the sxd key does carry the restricted layer; the public one not
    zz, y, x = tile_of(105.7801, 10.0301, 16)
    pub = web.get(f"/tiles/WebMercatorQuad/{zz}/{y}/{x}")
    staff = web.get(f"/tiles/WebMercatorQuad/{zz}/{y}/{x}", headers=headers["sxd"])
    assert b"water_pipes" in staff.content and b"water_pipes" not in pub.content
    assert staff.headers["cache-control"].startswith("private")
