"""Abuse limits against real servers: rate limits (429 + Retry-After) per address and per key,
URL and body size, the request timeout, the pool's statement timeout and read-only role, and
hostile query parameters answered with a clear 400."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import asyncpg
import httpx
import pytest

from tests.access_fixtures import make_key, serve

pytest_plugins = ["tests.access_fixtures"]
ITEMS = "/collections/cadastral_parcels/items"


@pytest.fixture(scope="module")
def tight_server(access_data, database_url, session_dir):
    with serve(database_url, session_dir / "tight_serve.log", SPP_RATE_IP_PER_S="5",
               SPP_RATE_IP_BURST="20", SPP_RATE_KEY_PER_S="50", SPP_RATE_KEY_BURST="100",
               SPP_MAX_URL_LENGTH="2000", SPP_MAX_BODY_BYTES="1000") as base:
        yield base


def test_rate_limit_per_address_spares_another_key(tight_server):
    key = make_key("busy application", "sxd")
    with httpx.Client(base_url=tight_server, timeout=30) as c:
        # a key draws from its own bucket once it has been seen valid
        assert c.get("/conformance", headers={"X-API-Key": key}).status_code == 200
        def anonymous(_):
            return c.get("/conformance")

        def keyed(_):
            return c.get("/conformance", headers={"X-API-Key": key})

        with ThreadPoolExecutor(8) as pool:
            anon = list(pool.map(anonymous, range(200)))
            mine = list(pool.map(keyed, range(40)))
    codes = [r.status_code for r in anon]
    assert codes.count(429) >= 150 and codes.count(200) >= 19, codes  # 1 went to the key
    assert set(codes) <= {200, 429}
    limited = next(r for r in anon if r.status_code == 429)
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["code"] == "TooManyRequests"
    assert [r.status_code for r in mine] == [200] * 40  # the key has its own bucket


def test_made_up_keys_do_not_escape_the_address_limit(tight_server):
    with httpx.Client(base_url=tight_server, timeout=30) as c:
        codes = [c.get("/conformance", headers={"X-API-Key": f"spp_{i:08x}_" + "x" * 43})
                 .status_code for i in range(60)]
    assert codes.count(401) <= 25 and codes[-1] == 429, codes


def test_request_size_limits(tight_server):
    # its own source address: the tests above emptied 127.0.0.1's bucket
    with httpx.Client(base_url=tight_server, timeout=30,
                      transport=httpx.HTTPTransport(local_address="127.0.0.9")) as c:
        r = c.get(ITEMS, params={"filter": "parcel_no = 1 OR " * 200 + "parcel_no = 2"})
        assert r.status_code == 414 and "URL" in r.json()["description"]
        r = c.post("/collections", content=b"x" * 5000)
        assert r.status_code == 413 and r.headers["connection"] == "close"  # body unread
        # a route that never reads a body answers at once, and hangs up on the unread body
        # (the 413 of a chunked body read by a route: tests/test_body_limits.py)
        r = c.post("/collections", content=(b"x" * 600 for _ in range(5)))  # chunked
        assert r.status_code == 405 and r.headers["connection"] == "close"


def test_request_timeout(access_data, database_url, session_dir):
    with serve(database_url, session_dir / "slow_serve.log", SPP_REQUEST_TIMEOUT_S="0.001",
               SPP_RATE_IP_PER_S="0") as base:
        r = httpx.get(base + ITEMS + "?limit=10000&crs=EPSG:5897", timeout=30)
    assert r.status_code == 503 and r.json()["code"] == "Timeout"


def test_pool_role_timeout_and_read_only(access_data, database_url, monkeypatch):
    from gis.settings import get_settings
    from services import pool
    from services.pages import PagePool
    from tests.access_fixtures import web_url

    monkeypatch.setenv("SPP_WEB_DATABASE_URL", web_url(database_url))
    get_settings.cache_clear()

    query = ("SELECT current_user AS u, current_setting('statement_timeout') AS t, "
             "current_setting('default_transaction_read_only') AS ro")

    async def probe():
        p = pool.make_pool(min_size=1, max_size=1)
        await p.open(wait=True)
        try:
            async with p.connection() as conn:
                cur = await conn.execute(query)
                return await cur.fetchone()
        finally:
            await p.close()

    async def probe_pages():  # the connections of the GeoJSON page queries
        p = PagePool(size=1)
        try:
            row = await p.fetchrow(query, [])
            with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
                await p.fetchrow("CREATE TABLE data.not_allowed (i int)", [])
            return {k: v.decode() if isinstance(v, bytes) else v  # text arrives as bytes
                    for k, v in row.items()}
        finally:
            await p.close()

    try:
        row = asyncio.run(probe())
        pages_row = asyncio.run(probe_pages())
    finally:
        get_settings.cache_clear()
    assert row == pages_row == {"u": "spp_web", "t": "15s", "ro": "on"}


HOSTILE = [
    ({"filter": "1=1; DROP TABLE data.cadastral_parcels --"}, "filter"),
    ({"filter": "parcel_no = 1 OR 1=1) --"}, "filter"),
    ({"filter": "pg_sleep(10) = 1"}, "filter"),
    ({"filter": "parcel_no > 99999999999999999999999999"}, None),  # valid: compared as a double
    ({"filter": "parcel_no > 1e400"}, "finite"),
    ({"filter": "parcel_no = NaN"}, "NaN"),
    ({"filter": "S_INTERSECTS(geom, POINT(NaN 10))"}, "filter"),
    ({"filter": '{"op":"=","args":[{"property":"parcel_no"},"1;DROP"]}',
      "filter-lang": "cql2-json"}, "integer"),
    ({"bbox": "105,10,106,11'); DROP TABLE x; --"}, "number"),
    ({"bbox": "NaN,10,106,11"}, "NaN"),
    ({"bbox": "1e309,1,2,3"}, "infinite"),
    ({"bbox": "106,10,105,11"}, "bbox"),
    ({"bbox": "170,-10,-170,10"}, "antimeridian"),
    ({"bbox": "105,11,106,10"}, "lower corner"),
    ({"bbox": "-200,10,106,11"}, "outside"),
    ({"bbox": "1,2,3"}, "4 numbers"),
    ({"limit": "99999999999999999999999"}, "outside"),
    ({"limit": "NaN"}, "integer"),
    ({"limit": "-1"}, "outside"),
    ({"limit": "10;DROP"}, "integer"),
    ({"sheet_no": "99999999999999999999"}, "64-bit"),
    ({"crs": "EPSG:9999999"}, "not a CRS"),
    ({"crs": "http://www.opengis.net/def/crs/EPSG/0/4326'--"}, "not a CRS"),
    ({"bbox-crs": "EPSG:123456"}, "not a CRS"),
    ({"filter-crs": "nonsense"}, "not a CRS"),
    ({"f": "json'--"}, "not offered"),
    ({"f": "../../etc/passwd"}, "not offered"),
    ({"sortby": "-parcel_no;DROP"}, "unknown property"),
    ({"cursor": "WzEsMiwzXQ"}, "cursor"),
    ({"cursor": "Wzk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5XQ"}, "cursor"),
]


@pytest.mark.parametrize("params,words", HOSTILE, ids=[str(p)[:60] for p, _ in HOSTILE])
def test_hostile_parameters_are_clear_400s(access_server, conn, params, words):
    r = httpx.get(access_server + ITEMS, params=params, timeout=30)
    if words is None:
        assert r.status_code == 200 and r.json()["numberReturned"] == 0
        return
    assert r.status_code == 400, (r.status_code, r.text[:300])
    body = r.json()
    assert body["code"] == "InvalidParameterValue"
    assert words.lower() in body["description"].lower(), body["description"]
    assert conn.execute("SELECT count(*) AS n FROM data.cadastral_parcels").fetchone()["n"] > 0


def test_hostile_single_feature_and_tiles(access_server):
    with httpx.Client(base_url=access_server, timeout=30) as c:
        assert c.get(ITEMS + "/99999999999999999999999").status_code == 404
        assert c.get(ITEMS + "/1;DROP TABLE x").status_code == 404
        assert c.get(ITEMS + "/1?crs=EPSG:0").status_code == 400
        for z, y, x in (("99", "0", "0"), ("-1", "0", "0"), ("NaN", "0", "0"),
                        ("16", "99999999999", "0"), ("16", "0", "1e9")):
            r = c.get(f"/collections/cadastral_parcels/tiles/WebMercatorQuad/{z}/{y}/{x}")
            assert r.status_code in (400, 404), (z, y, x, r.status_code)
