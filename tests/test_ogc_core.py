"""OGC API - Features Part 1 Core, after the abstract tests of the OGC ETS: landing page,
conformance, collections, items (limit, bbox, paging, feature by id), headers and errors."""

from __future__ import annotations

import gzip
import json
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

pytest_plugins = ["tests.ogc_fixtures"]


CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
GEOJSON = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"


def link(doc, rel, type_=None):
    found = [lk for lk in doc["links"] if lk["rel"] == rel
             and (type_ is None or lk.get("type", "").startswith(type_))]
    return found[0]["href"] if found else None


def test_landing_page_links_are_absolute(client, ogc_server):
    r = client.get("")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    doc = r.json()
    for rel in ("self", "service-desc", "service-doc", "conformance", "data"):
        href = link(doc, rel)
        assert href and href.startswith("http://127.0.0.1:"), rel
        assert httpx.get(href, timeout=30).status_code == 200, href
    desc = httpx.get(link(doc, "service-desc"), timeout=30)
    assert "openapi" in desc.headers["content-type"]
    spec = desc.json()
    assert spec["openapi"].startswith("3.0")
    assert "/ogc/collections/{collectionId}/items" in spec["paths"]
    params = {p["name"] for p in spec["paths"]["/ogc/collections/{collectionId}/items"]["get"]
              ["parameters"]}
    assert {"bbox", "limit", "crs", "bbox-crs", "filter", "datetime"} <= params
    # declared once (services/ogc/params.py): what parses a request is what the document says
    from services.ogc.params import ITEMS

    items_doc = spec["paths"]["/ogc/collections/{collectionId}/items"]["get"]["parameters"]
    limit = next(p for p in items_doc if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10}
    assert params == {"collectionId", *ITEMS.by_name}
    one = spec["paths"]["/ogc/collections/{collectionId}/items/{featureId}"]["get"]
    assert {p["name"] for p in one["parameters"]} == {"collectionId", "featureId", "f", "crs"}
    assert "anyOf" not in json.dumps(spec) or '"type": "null"' not in json.dumps(spec)


def test_swagger_ui_loads_nothing_from_outside(client, ogc_server):
    page = client.get("/docs").text
    for src in [s.split('"')[1] for s in page.split("src=")[1:]] + \
               [s.split('"')[1] for s in page.split("href=")[1:]]:
        assert src.startswith("http://127.0.0.1:"), src
        assert httpx.get(src, timeout=30).status_code == 200


def test_conformance(client):
    doc = client.get("/conformance").json()
    assert CORE in doc["conformsTo"] and GEOJSON in doc["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in doc["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt" in doc["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-styles-1/1.0/conf/core" in doc["conformsTo"]


def test_landing_and_collection_lead_to_tiles_and_styles(client):
    landing = client.get("").json()
    ogc = "http://www.opengis.net/def/rel/ogc/1.0/"
    for rel in ("tilesets-vector", "tiling-schemes", "styles"):
        r = httpx.get(link(landing, ogc + rel), timeout=30)
        assert r.status_code == 200, rel
    assert "tilesets" in httpx.get(link(landing, ogc + "tilesets-vector"), timeout=30).json()
    doc = client.get("/collections/cadastral_parcels").json()
    tilesets = httpx.get(link(doc, ogc + "tilesets-vector"), timeout=30).json()
    assert tilesets["tilesets"][0]["dataType"] == "vector"
    style = httpx.get(link(doc, ogc + "style"), timeout=30)
    assert style.status_code == 200 and style.json()["version"] == 8


def test_collections_list_only_what_the_public_may_see(client, conn):
    doc = client.get("/collections").json()
    ids = {c["id"] for c in doc["collections"]}
    public = {r["id"] for r in conn.execute(  # feature collections: rasters are not listed
        "SELECT id FROM spp.layers WHERE current_version IS NOT NULL AND "
        "access_level = 'public' AND coalesce(definition->>'kind', 'vector') = 'vector'")}
    # and the catalogue of datasets (OGC API - Records), a collection of records
    assert [c["id"] for c in doc["collections"] if c["itemType"] == "record"] == ["catalog"]
    ids.discard("catalog")
    assert ids == public and {"cadastral_parcels", "fire_hydrants"} <= ids
    assert "water_pipes" not in ids  # restricted, although loaded
    hidden = client.get("/collections/water_pipes")
    missing = client.get("/collections/no_such_layer")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["code"] == missing.json()["code"]
    assert client.get("/collections/water_pipes/items").status_code == 404
    assert client.get("/collections/water_pipes/items/1").status_code == 404


def test_collection_metadata(client, conn):
    doc = client.get("/collections/cadastral_parcels").json()
    row = conn.execute("SELECT * FROM spp.layers WHERE id = 'cadastral_parcels'").fetchone()
    assert doc["itemType"] == "feature"
    assert doc["title"] == row["title_vi"] and doc["owner"]["vi"] == row["owner_vi"]
    assert doc["license"] == row["licence"]
    assert doc["extent"]["spatial"]["bbox"][0] == pytest.approx(row["bbox"])
    lo, hi = doc["extent"]["temporal"]["interval"][0]
    span = conn.execute("SELECT min(valid_from)::text a, max(valid_from)::text b "
                        "FROM data.cadastral_parcels").fetchone()
    assert lo.startswith(span["a"]) and hi.startswith(span["b"])
    assert "http://www.opengis.net/def/crs/OGC/1.3/CRS84" in doc["crs"]
    assert doc["storageCrs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    assert link(doc, "items", "application/geo+json")
    assert doc["updated"]


def test_items_default_limit_and_headers(client, ogc_data):
    r = client.get("/collections/cadastral_parcels/items")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    doc = r.json()
    assert doc["type"] == "FeatureCollection" and doc["numberReturned"] == 10
    assert len(doc["features"]) == 10 and doc["numberMatched"] == ogc_data["parcels"]
    assert link(doc, "self") and link(doc, "next")
    assert "timeStamp" in doc
    f = doc["features"][0]
    assert f["type"] == "Feature" and f["geometry"]["type"] == "MultiPolygon"


def test_limit_bounds(client):
    assert len(client.get("/collections/cadastral_parcels/items?limit=1").json()
               ["features"]) == 1
    for bad in ("0", "-1", "10001", "abc", "1e3"):
        r = client.get(f"/collections/cadastral_parcels/items?limit={bad}")
        assert r.status_code == 400, bad
        assert "limit" in r.json()["description"]


def test_paging_walks_every_feature_once(client, conn):
    seen = []
    url = "/collections/cadastral_parcels/items?limit=700"
    while url:
        doc = client.get(url).json()
        seen += [f["id"] for f in doc["features"]]
        nxt = link(doc, "next")
        assert (nxt is not None) == (doc["numberReturned"] == 700)
        url = nxt and nxt.replace(str(client.base_url), "")
    fids = [r["fid"] for r in conn.execute("SELECT fid FROM data.cadastral_parcels ORDER BY fid")]
    assert seen == fids
    token = parse_qs(urlparse(link(client.get(
        "/collections/cadastral_parcels/items?limit=5").json(), "next")).query)["cursor"][0]
    assert client.get(f"/collections/cadastral_parcels/items?cursor={token}x!").status_code \
        == 400


def test_bbox(client, conn):
    bbox = (105.7810, 10.0305, 105.7850, 10.0330)
    doc = client.get("/collections/cadastral_parcels/items",
                     params={"bbox": ",".join(map(str, bbox)), "limit": 1000}).json()
    expected = {r["fid"] for r in conn.execute(
        "SELECT fid FROM data.cadastral_parcels WHERE ST_Intersects(geom, "
        "ST_MakeEnvelope(%s, %s, %s, %s, 4326))", bbox)}
    assert {f["id"] for f in doc["features"]} == expected and expected
    assert "numberMatched" not in doc
    for bad in ("1,2,3", "1,2,nan,4", "105.8,10,105.7,10.1", "a,b,c,d", "0,0,200,10",
                "1,2,3,inf"):
        r = client.get("/collections/cadastral_parcels/items", params={"bbox": bad})
        assert r.status_code == 400 and "bbox" in r.json()["description"], bad


def test_datetime_and_property_filters(client, conn):
    doc = client.get("/collections/cadastral_parcels/items", params={
        "datetime": "2010-01-01/2010-12-31", "ward_name": "Cái Khế", "limit": 1000}).json()
    expected = {r["fid"] for r in conn.execute(
        "SELECT fid FROM data.cadastral_parcels WHERE valid_from BETWEEN '2010-01-01' AND "
        "'2010-12-31' AND ward_name = 'Cái Khế'")}
    assert {f["id"] for f in doc["features"]} == expected and expected
    open_end = client.get("/collections/cadastral_parcels/items", params={
        "datetime": "2023-06-01/..", "limit": 1000}).json()
    assert all(f["properties"]["valid_from"] >= "2023-06-01" for f in open_end["features"])
    for bad in ({"datetime": "yesterday"}, {"datetime": "2020-01-01/2019-01-01"},
                {"sheet_no": "one"}, {"no_such_param": "1"}):
        assert client.get("/collections/cadastral_parcels/items", params=bad).status_code \
            == 400, bad
    assert client.get("/collections/roads/items?datetime=2020-01-01").status_code in (400, 404)


def test_feature_by_id(client, conn):
    fid = conn.execute("SELECT fid FROM data.cadastral_parcels ORDER BY fid DESC LIMIT 1"
                       ).fetchone()["fid"]
    r = client.get(f"/collections/cadastral_parcels/items/{fid}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    f = r.json()
    assert f["type"] == "Feature" and f["id"] == fid
    assert link(f, "self") and link(f, "collection")
    for missing in ("999999999", "abc", "1.5"):
        r = client.get(f"/collections/cadastral_parcels/items/{missing}")
        assert r.status_code == 404 and r.json()["code"] == "NotFound"


def test_html_for_browsers(client, ogc_data):
    fid = ogc_data["fid"]
    for path in ("", "/conformance", "/collections", "/collections/cadastral_parcels",
                 "/collections/cadastral_parcels/items",
                 f"/collections/cadastral_parcels/items/{fid}",
                 "/collections/cadastral_parcels/queryables"):
        r = client.get(path, headers={"Accept": "text/html,application/xhtml+xml"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
        assert "<html" in r.text and "cdn" not in r.text.lower()
    items = client.get("/collections/cadastral_parcels/items?f=html").text
    assert "<svg" in items and "<path" in items and "next page" in items
    assert client.get("/collections/cadastral_parcels/items?f=xml").status_code == 400


def test_etag_304_and_cache_control(client):
    url = "/collections/cadastral_parcels/items?limit=3&bbox=105.78,10.03,105.79,10.04"
    r = client.get(url)
    etag = r.headers["etag"]
    assert "max-age" in r.headers["cache-control"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.content
    other = client.get(url.replace("limit=3", "limit=4"), headers={"If-None-Match": etag})
    assert other.status_code == 200
    same_query_reordered = client.get(
        "/collections/cadastral_parcels/items?bbox=105.78,10.03,105.79,10.04&limit=3",
        headers={"If-None-Match": etag})
    assert same_query_reordered.status_code == 304


def test_gzip(client, ogc_server):
    r = client.get("/collections/cadastral_parcels/items?limit=200",
                   headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    with httpx.stream("GET", ogc_server + "/collections/cadastral_parcels/items",
                      params={"limit": 200}, headers={"Accept-Encoding": "gzip"}) as s:
        body = b"".join(s.iter_raw())
    assert json.loads(gzip.decompress(body))["numberReturned"] == 200


def test_errors_are_ogc_exceptions(client):
    for url in ("/collections/cadastral_parcels/items?crs=EPSG:1234",
                "/collections/cadastral_parcels/items?f=pdf",
                "/collections/cadastral_parcels/items?limit=99999999999999999999",
                "/collections/cadastral_parcels/items?limit=5&limit=6"):
        r = client.get(url)
        assert r.status_code == 400, url
        body = r.json()
        assert set(body) == {"code", "description"} and body["description"]


def test_statements_use_the_drivers_own_placeholders():
    """asyncpg's $n numbered where a value is first bound; a value used twice (a keyset key)
    is one placeholder; psycopg's statements name theirs."""
    from services.catalog import Column
    from services.ogc import query
    from services.ogc.params import ItemsQuery

    class Layer:
        id, current_version, definition_sha, time_field = "roads", 1, "x", None
        columns = {"name": Column("name", "string", "Name", "Tên")}

    q = ItemsQuery(limit=5, bbox=(105.7, 10.0, 105.8, 10.1), sortby=[("name", False)],
                   cursor=["b", 7])
    s = query.build(Layer, Layer.columns, q, numbered=True)
    text = query.page_cte(s, True, q.cursor).as_bytes(None).decode()
    assert "%(" not in text and "$8" not in text and text.count("$6") == 2  # "b", twice
    assert list(s.params.values()) == [105.7, 10.0, 105.8, 10.1, 7, "b", 5]
    named = query.build(Layer, Layer.columns, q)
    assert "%(x0)s" in query.page_cte(named, True, q.cursor).as_bytes(None).decode()
