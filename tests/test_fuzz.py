"""Hostile requests against a real `gis serve`: every case that once gave a 5xx, crashed the
server or sent a broken download is a clear 4xx now; paging cursors are sealed; a download that
fails after its first byte is a transfer the client sees failing; a few hundred CQL2-text
filters generated from the grammar (and mangled) never give a 5xx, and the server is still up
at the end."""

from __future__ import annotations

import base64
import json
import random
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from tests.access_fixtures import serve
from tests.cql2gen import Gen
from tests.ogc_fixtures import SECRET_NAMES

pytest_plugins = ["tests.access_fixtures", "tests.raster_fixtures"]
ITEMS = "/collections/cadastral_parcels/items"
HYDRANTS = "/collections/fire_hydrants/items"
SEED = 20261130
DEEP = 2000  # the cql2 parser segfaulted from ~1 540 nested parentheses


@pytest.fixture(scope="module")
def server(access_data, raster_data, database_url, session_dir):
    with serve(database_url, session_dir / "fuzz_hostile.log", SPP_RATE_IP_PER_S="0",
               SPP_RATE_KEY_PER_S="0") as base:
        yield base


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server, timeout=60) as c:
        yield c


def _alive(c: httpx.Client) -> None:
    r = c.get(ITEMS, params={"limit": "1"})
    assert r.status_code == 200 and r.json()["numberReturned"] == 1


def get(c: httpx.Client, path: str, params: dict, **kw) -> httpx.Response:
    """GET with brackets and quotes left as they are in the URL (as curl sends them): httpx's
    params= would triple the length of a deep filter with %28... and hit the URL limit."""
    query = "&".join(f"{quote(k)}={quote(v, safe=SAFE)}" for k, v in params.items())
    return c.get(f"{path}?{query}", **kw)


SAFE = "()[]{},:'=*<>"


def nested(n: int, inner: str) -> str:
    return "(" * n + inner + ")" * n


# (path, params, words the 400 description must hold)
CASES = [
    (HYDRANTS, {"filter": nested(DEEP, "hydrant_code='TN-1'")}, "nested deeper"),
    (HYDRANTS, {"filter": nested(1531, "hydrant_code='TN-1'")}, "nested deeper"),
    (ITEMS, {"filter": f"sheet_no={nested(DEEP, '1')}"}, "nested deeper"),
    (ITEMS, {"filter": f"sheet_no IN ({nested(DEEP, '1')})"}, "nested deeper"),
    (ITEMS, {"filter": "NOT " * 500 + "sheet_no = 1"}, "nested deeper"),
    (ITEMS, {"filter": "sheet_no = " + "-" * DEEP + "1"}, "nested deeper"),
    (ITEMS, {"filter": "CASEI(" * 400 + "address" + ")" * 400 + " = 'x'"}, "nested deeper"),
    (ITEMS, {"filter-lang": "cql2-json", "filter": '{"op":"not","args":[' * 100
             + '{"op":"=","args":[{"property":"sheet_no"},1]}' + "]}" * 100}, "nested deeper"),
    (ITEMS, {"filter-lang": "cql2-json", "filter": "[" * DEEP + "]" * DEEP}, "nested deeper"),
    (ITEMS, {"filter": "sheet_no = 1" + ")" * 3}, "closing bracket"),
    (ITEMS, {"filter": "address = sheet_no"}, "cannot be compared"),
    (ITEMS, {"filter": "address = sheet_no", "f": "csv"}, "cannot be compared"),
    (ITEMS, {"filter": "address LIKE sheet_no", "f": "gpkg"}, "cannot be compared"),
    (ITEMS, {"filter": "sheet_no = DATE('2020-01-01')", "f": "html"}, "cannot be compared"),
    (ITEMS, {"filter": "CASEI(address) = valid_from"}, "cannot be compared"),
    (ITEMS, {"filter": "S_DWITHIN(geom,POINT(105.77 10.03),1e300)"}, "S_DWITHIN distance"),
    (ITEMS, {"filter": "S_DWITHIN(geom,POINT(105.77 1000),10)"}, "outside the range"),
    (ITEMS, {"filter": "S_INTERSECTS(geom,POINT(9000000000000 9000000000000))", "filter-crs":
             "http://www.opengis.net/def/crs/EPSG/0/5897"}, "larger than"),
    (ITEMS, {"sortby": ",".join(["sheet_no", "parcel_no"] * 50)}, "at most"),
    (ITEMS, {"sortby": "sheet_no,-sheet_no"}, "more than once"),
    (ITEMS, {"cursor": "W3RydWUsIDFd", "sortby": "sheet_no", "f": "html"}, "cursor"),
    (ITEMS, {"cursor": "W3RydWUsIDFd", "sortby": "sheet_no", "f": "csv"}, "cursor"),
    (ITEMS, {"cursor": "W3RydWUsIDFd", "sortby": "sheet_no", "f": "shp"}, "cursor"),
    (ITEMS, {"cursor": "W3RydWUsIDFd", "sortby": "sheet_no"}, "cursor"),
    (ITEMS, {"cursor": "%%%%", "f": "gpkg"}, "cursor"),
    (ITEMS, {"cursor": "x" * 5000}, "cursor"),
    (ITEMS, {"address": "a\x00b", "f": "html"}, "NUL"),
    (ITEMS, {"address": "a\x00b", "f": "gpkg"}, "NUL"),
    (ITEMS, {"filter": "address = 'a\x00b'", "f": "csv"}, "NUL"),
    (ITEMS, {"filter": "address = 'a\x00b'"}, "NUL"),
]


@pytest.mark.parametrize("path,params,words", CASES,
                         ids=[f"{i}-{str(p)[:50]}" for i, (_, p, _w) in enumerate(CASES)])
def test_hostile_query_is_a_clear_400(client, path, params, words):
    r = get(client, path, params)
    assert r.status_code == 400, (r.status_code, r.text[:300])
    body = r.json()  # a complete JSON error document, also for csv/gpkg/shp/html
    assert body["code"] == "InvalidParameterValue"
    assert words.lower() in body["description"].lower(), body["description"]


def test_server_survives_the_deep_filters(client):
    for n in (1531, 1540, 1600, DEEP, 5000):
        r = get(client, HYDRANTS, {"filter": nested(n, "hydrant_code='TN-1'")})
        assert r.status_code == (400 if n < 4000 else 414), r.status_code
    r = get(client, HYDRANTS, {"filter": nested(5, "hydrant_code='TN-1'")})
    assert r.status_code == 200 and r.json()["numberReturned"] == 1
    _alive(client)


def test_bounds_leave_room_for_real_filters(client):
    square = [[[105.7, 9.9], [105.9, 9.9], [105.9, 10.1], [105.7, 10.1], [105.7, 9.9]]]
    cond: dict = {"op": "s_intersects", "args": [{"property": "geom"},
                                                {"type": "MultiPolygon", "coordinates": [square]}]}
    for i in range(6):  # six boolean levels around a MultiPolygon: 21 brackets deep
        cond = {"op": "and" if i % 2 else "or", "args": [cond, {"op": ">=", "args": [
            {"property": "sheet_no"}, 0]}]}
    r = client.get(ITEMS, params={"filter": json.dumps(cond), "filter-lang": "cql2-json"})
    assert r.status_code == 200 and r.json()["numberReturned"] > 0, r.text[:300]
    text = "NOT (" * 8 + "S_INTERSECTS(geom, MULTIPOLYGON(((105.7 9.9, 105.9 9.9, 105.9 10.1, " \
        "105.7 9.9)))) OR sheet_no < 0" + ")" * 8
    r = client.get(ITEMS, params={"filter": text})
    assert r.status_code == 200, r.text[:300]


def test_a_parser_crash_costs_one_request_not_the_process():
    """The cql2 parser itself still segfaults on deep nesting; fed directly (past the
    bounds), its child process dies, the caller gets a 400 and the next filter parses."""
    from services.ogc.cqlworker import FilterParser
    from services.ogc.errors import InvalidParameter

    parser = FilterParser()
    try:
        with pytest.raises(InvalidParameter, match="gave up"):
            parser.parse(nested(5000, "a=1"), "cql2-text")
        assert parser.parse("a = 1", "cql2-text") == {"op": "=", "args": [{"property": "a"},
                                                                         1.0]}
        child = parser._proc.pid
        with pytest.raises(InvalidParameter, match="gave up"):  # repeated: from the cache,
            parser.parse(nested(5000, "a=1"), "cql2-text")     # the child is not fed it again
        assert parser._proc.pid == child and parser._proc.poll() is None
    finally:
        parser._stop()


UNICODE_DIGIT = "\u00b2"  # '²'.isdigit() is True, int('²') raises


def test_unicode_digits_and_nul_in_paths_are_4xx(client, server):
    root = server.removesuffix("/ogc")
    with httpx.Client(base_url=root, timeout=60) as c:
        r = c.get(f"/api/parcels/{UNICODE_DIGIT}/flood")
        assert r.status_code == 400 and "fid" in r.json()["description"]
        r = c.get("/api/export", params={"layer": "cadastral_parcels", "fids": UNICODE_DIGIT})
        assert r.status_code == 400 and "fids" in r.json()["description"]
        r = c.get(f"/api/parcels/{UNICODE_DIGIT}/planning")
        assert r.status_code == 404
        r = c.get(f"/ogc/collections/flood_depth_100y/map/tiles/WebMercatorQuad/"
                  f"{UNICODE_DIGIT}/0/0")
        assert r.status_code == 400 and "tileMatrix must be" in r.json()["description"]
        r = c.get(f"/ogc/collections/cadastral_parcels/tiles/WebMercatorQuad/"
                  f"{UNICODE_DIGIT}/0/0")
        assert r.status_code == 400
        for path in ("/static/%00", "/static/vendor/maplibre-gl/%00",
                     "/static/vendor/maplibre-gl/dist/%00.js"):
            r = c.get(path)
            assert r.status_code == 404, (path, r.status_code)


ODD = ["\x00", "a\x00", UNICODE_DIGIT, "\u0663", "-0", "1e999", "%", "..", "\ud7ff", "x" * 3000]
SWEEP = ["/ogc/collections/{v}", "/ogc/collections/{v}/items", "/ogc/collections/{v}/items/1",
         "/ogc/collections/cadastral_parcels/items/{v}", "/ogc/collections/{v}/queryables",
         "/ogc/collections/cadastral_parcels/tiles/WebMercatorQuad/{v}/0/0",
         "/ogc/collections/cadastral_parcels/tiles/{v}", "/ogc/tiles/WebMercatorQuad/{v}/1/1",
         "/ogc/styles/{v}", "/ogc/collections/flood_depth_100y/map/tiles/WebMercatorQuad/3/{v}/0",
         "/api/parcels/{v}/planning", "/api/parcels/{v}/flood", "/api/search?q={v}",
         "/api/export?layer={v}&fids=1", "/api/rasters/{v}", "/static/{v}",
         "/api/rasters/flood_depth_100y/value?lon={v}&lat=10",
         "/ogc/collections/flood_depth_100y/coverage?bbox={v}",
         "/ogc/collections/cadastral_parcels/items?{v}=1",
         "/ogc/collections/cadastral_parcels/items?f={v}",
         "/ogc/collections/cadastral_parcels/items?crs={v}&f=csv",
         "/ogc/collections/cadastral_parcels/items?datetime={v}&f=gpkg",
         "/ogc/collections/cadastral_parcels/items?valid_from={v}&f=html",
         "/ogc/collections/cadastral_parcels/items?bbox={v},1,2,3&f=shp",
         # the catalogue (OGC API - Records)
         "/ogc/collections/catalog/items/{v}", "/ogc/collections/catalog/items?q={v}",
         "/ogc/collections/catalog/items?q={v},{v}&f=html",
         "/ogc/collections/catalog/items?keywords={v}&type={v}&ids={v}",
         "/ogc/collections/catalog/items?bbox={v},1,2,3", "/ogc/collections/catalog?f={v}",
         "/ogc/collections/catalog/items?datetime={v}/..&sortby={v}",
         "/ogc/collections/catalog/items?limit={v}&offset={v}"]


def test_odd_values_anywhere_are_never_a_server_error(server):
    root = server.removesuffix("/ogc")
    bad = []
    with httpx.Client(base_url=root, timeout=60) as c:
        for template in SWEEP:
            for v in ODD:
                url = template.format(v=quote(v.encode("utf-8", "surrogatepass"), safe=""))
                r = c.get(url)
                if r.status_code >= 500:
                    bad.append((url[:120], r.status_code, r.text[:120]))
        _alive(httpx.Client(base_url=server, timeout=60))
    assert not bad, bad


@pytest.mark.parametrize("body", [b"null", b"[1,2,3]", b"[" * 200 + b"]" * 200, b'"x"', b"1",
                                  b"[" * 2000 + b"]" * 2000, b'{"type":"Feature"}',
                                  b'{"type":"Polygon","coordinates":' + b"[" * 200 + b"]" * 200
                                  + b"}"])
def test_zonal_statistics_bodies_are_400(server, body):
    r = httpx.post(server.removesuffix("/ogc") + "/api/rasters/flood_depth_100y/zonal",
                   content=body, timeout=60)
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert r.json()["description"]


def _next(r: httpx.Response) -> str | None:
    return next((lk["href"] for lk in r.json()["links"] if lk["rel"] == "next"), None)


def test_cursor_is_sealed_and_bound_to_its_query(client, keys):
    personal = {"X-API-Key": keys["personal"]}
    r = client.get(ITEMS, params={"sortby": "owner_name", "limit": "3"}, headers=personal)
    assert r.status_code == 200
    names = {f["properties"]["owner_name"] for f in r.json()["features"]}
    assert names <= set(SECRET_NAMES) and names
    href = _next(r)
    token = parse_qs(urlsplit(href).query)["cursor"][0]
    opened = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    for name in SECRET_NAMES:  # neither in clear nor merely encoded
        assert name not in href and name.encode() not in opened
        assert name.encode("utf-16-le") not in opened
    page2 = client.get(href, headers=personal)
    assert page2.status_code == 200 and page2.json()["numberReturned"] == 3
    first_ids = {f["id"] for f in r.json()["features"]}
    assert not first_ids & {f["id"] for f in page2.json()["features"]}
    # every bit matters; another sortby or collection does not open it
    flipped = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    for params in ({"sortby": "owner_name", "cursor": flipped},
                   {"sortby": "-owner_name", "cursor": token},
                   {"sortby": "address", "cursor": token}, {"cursor": token}):
        bad = client.get(ITEMS, params=params, headers=personal)
        assert bad.status_code == 400 and "cursor" in bad.json()["description"], params
    bad = client.get(HYDRANTS, params={"sortby": "owner_name", "cursor": token})
    assert bad.status_code == 400


def test_paging_by_date_follows_the_links(client):
    seen: list[int] = []
    url, params = ITEMS, {"sortby": "-valid_from,address", "limit": "400", "properties":
                          "valid_from"}
    for _ in range(10):
        r = client.get(url, params=params)
        assert r.status_code == 200, r.text[:300]
        seen += [f["id"] for f in r.json()["features"]]
        url, params = _next(r), None
        if url is None:
            break
    assert len(seen) == len(set(seen)) == 2500


def test_validation_happens_before_the_first_byte_of_downloads(client):
    for fmt in ("csv", "gpkg", "shp", "html"):
        r = client.get(ITEMS, params={"f": fmt, "filter": "sheet_no = 'x'"})
        assert r.status_code == 400 and r.json()["description"], fmt


@pytest.fixture(scope="module")
def slow_server(access_data, database_url, session_dir):
    """Downloads fetch one row at a time: a long transfer to break in the middle."""
    with serve(database_url, session_dir / "fuzz_slow.log", SPP_RATE_IP_PER_S="0",
               SPP_EXPORT_BATCH_ROWS="1") as base:
        yield base


@pytest.mark.parametrize("fmt,limit", [("csv", "10000"), ("gpkg", "200")])
def test_a_download_broken_midway_fails_for_the_client(slow_server, conn, fmt, limit):
    """GeoPackage rows are appended one by one here (~20 ms each): 200 are a few seconds."""
    for _ in range(3):  # a pool connection killed by the case before may cost one 503
        complete = httpx.get(slow_server + ITEMS, params={"f": fmt, "limit": limit},
                             timeout=120)
        if complete.status_code != 503:
            break
    assert complete.status_code == 200 and len(complete.content) > 1000, complete.text[:300]
    with httpx.Client(timeout=120) as c:
        with c.stream("GET", slow_server + ITEMS, params={"f": fmt, "limit": limit}) as r:
            assert r.status_code == 200
            killed = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE "
                "usename = 'spp_web' AND query ILIKE '%spp_download%'").fetchone()["n"]
            assert killed == 1
            with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
                r.read()


PARCEL_PROPS = {"sheet_no": "integer", "parcel_no": "integer", "legal_area": "number",
                "land_use_code": "string", "address": "string", "ward_name": "string",
                "commune_code": "string", "valid_from": "date", "valid_to": "date"}
N_GENERATED = 300


def _as_json(text: str, gen: Gen) -> str | None:
    """The filter in CQL2 JSON (converted by the service's own isolated parser), sometimes
    mangled; None when it does not parse."""
    from services.ogc.cqlworker import PARSER
    from services.ogc.errors import InvalidParameter

    try:
        doc = json.dumps(PARSER.parse(text, "cql2-text"), ensure_ascii=False)
    except InvalidParameter:
        return None
    return gen.mutate(doc) if gen.r.random() < 0.3 else doc


def test_generated_cql2_filters_never_give_a_server_error(client):
    """Text filters from the grammar, a quarter of them sent as CQL2 JSON."""
    gen = Gen(random.Random(SEED), PARCEL_PROPS)
    statuses: dict[int, int] = {}
    failures = []
    as_json = 0
    for _ in range(N_GENERATED):
        text = gen.case()
        params = {"filter": text, "limit": "5"}
        if len(text) < 3000 and gen.r.random() < 0.25 and (doc := _as_json(text, gen)):
            params = {"filter": doc, "filter-lang": "cql2-json", "limit": "5"}
            as_json += 1
        if gen.r.random() < 0.1:
            params["f"] = gen.pick(["csv", "html"])
        try:
            r = get(client, ITEMS, params)
        except httpx.HTTPError as exc:
            failures.append((text[:200], repr(exc)))
            continue
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        if r.status_code >= 500:
            failures.append((text[:200], r.text[:200]))
    assert not failures, failures[:10]
    assert statuses.get(200, 0) >= 50 and statuses.get(400, 0) >= 50, statuses
    assert as_json >= 30, as_json
    _alive(client)
