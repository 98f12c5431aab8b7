"""Tiles and styles with credentials (API keys), served as the read-only role spp_web: a
restricted layer's tiles and style for its departments only, private caching for them, no
disk-cached tile outside the public's scope, and personal fields in no tile even for a key
granted them (tiles carry `tiles.fields` only)."""

from __future__ import annotations

import mapbox_vector_tile
import morecantile
import pytest

from tests.access_fixtures import serve

pytest_plugins = ["tests.access_fixtures", "tests.tiles_fixtures"]

TMS = morecantile.tms.get("WebMercatorQuad")
PIPE = TMS.tile(105.785, 10.035, 15)  # under ONG-1 (105.78,10.03)-(105.79,10.04)
PIPE_TILE = f"/collections/water_pipes/tiles/WebMercatorQuad/15/{PIPE.y}/{PIPE.x}"


@pytest.fixture(scope="module")
def keyed(access_data, tiles_data, keys, database_url, session_dir):
    cache = session_dir / "tiles_keys_data"
    with serve(database_url, session_dir / "tiles_keys_serve.log", SPP_AUTH_CACHE_S="0",
               SPP_TILE_CACHE="1", SPP_DATA_DIR=str(cache), SPP_RATE_IP_PER_S="0",
               SPP_RATE_KEY_PER_S="0") as base:
        yield base, cache / "tiles", keys


def test_restricted_tiles_for_their_departments_only(keyed):
    import httpx

    base, cache, keys = keyed
    for who, status in (("wasuco", 200), ("sxd", 200), ("other", 404), (None, 404)):
        headers = {"X-API-Key": keys[who]} if who else {}
        r = httpx.get(base + PIPE_TILE, headers=headers)
        assert r.status_code == status, (who, r.text)
        s = httpx.get(base + "/styles/water_pipes", headers=headers)
        assert s.status_code == status, who
        if status == 200:
            layer = mapbox_vector_tile.decode(r.content)["water_pipes"]
            assert {f["properties"]["pipe_code"] for f in layer["features"]} >= {"ONG-1"}
            assert r.headers["Cache-Control"].startswith("private")
    assert not list(cache.glob(f"*/15/{PIPE.x}/{PIPE.y}.mvt"))  # never on disk
    multi = httpx.get(base + f"/tiles/WebMercatorQuad/15/{PIPE.y}/{PIPE.x}",
                      headers={"X-API-Key": keys["wasuco"]})
    assert "water_pipes" in mapbox_vector_tile.decode(multi.content)


def test_personal_grant_does_not_put_owners_in_tiles(keyed, conn):
    import httpx

    base, _, keys = keyed
    p = conn.execute("SELECT ST_X(ST_Centroid(geom)) x, ST_Y(ST_Centroid(geom)) y "
                     "FROM data.cadastral_parcels ORDER BY fid LIMIT 1").fetchone()
    t = TMS.tile(p["x"], p["y"], 16)
    path = f"/collections/cadastral_parcels/tiles/WebMercatorQuad/16/{t.y}/{t.x}"
    public = httpx.get(base + path)
    granted = httpx.get(base + path, headers={"X-API-Key": keys["personal"]})
    assert public.status_code == granted.status_code == 200
    assert b"owner_name" not in granted.content and b"owner_id_no" not in granted.content
    assert public.headers["ETag"] != granted.headers["ETag"]  # validators per scope
    f1 = mapbox_vector_tile.decode(public.content)["cadastral_parcels"]["features"]
    f2 = mapbox_vector_tile.decode(granted.content)["cadastral_parcels"]["features"]
    assert [f["properties"] for f in f1] == [f["properties"] for f in f2]
