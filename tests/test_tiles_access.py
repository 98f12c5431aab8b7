"""Tiles respect access exactly as features do: a restricted layer is 404 everywhere in the
tiles API (alike a missing one) and never a layer of a multi-layer tile; personal fields and
values are in no tile byte and no tile metadata for the public."""

from __future__ import annotations

import morecantile
import pytest

from tests.ogc_fixtures import SECRET_IDS, SECRET_NAMES

pytest_plugins = ["tests.tiles_fixtures"]

TMS = morecantile.tms.get("WebMercatorQuad")
FORBIDDEN = [b"owner_name", b"owner_id_no", b"TenChu", b"CCCD", b"GhiChu", b"extra"]


def assert_clean(body: bytes, where: str) -> None:
    for secret in [*SECRET_NAMES, *SECRET_IDS[:100], SECRET_IDS[-1]]:
        assert secret.encode() not in body, (where, secret)
    for name in FORBIDDEN:
        assert name not in body, (where, name)


@pytest.mark.parametrize("path", [
    "/collections/{id}/tiles",
    "/collections/{id}/tiles/WebMercatorQuad",
    "/collections/{id}/tiles/WebMercatorQuad?f=tilejson",
    "/collections/{id}/tiles/WebMercatorQuad/15/15466/26012",
    "/collections/{id}/tiles/WebMercatorQuad/3/0/0",
    "/tiles/WebMercatorQuad/15/15466/26012?collections={id}",
    "/tiles/WebMercatorQuad?f=tilejson&collections={id}",
])
def test_restricted_layer_is_404_like_a_missing_one(tiles, path):
    hidden = tiles.get(path.format(id="water_pipes"))
    missing = tiles.get(path.format(id="no_such_layer"))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["code"] == missing.json()["code"]


def test_restricted_layer_is_in_no_multi_layer_tile(tiles, conn):
    pipes = conn.execute("SELECT ST_X(ST_StartPoint(ST_GeometryN(geom, 1))) AS lon, "
                         "ST_Y(ST_StartPoint(ST_GeometryN(geom, 1))) AS lat "
                         "FROM data.water_pipes").fetchall()
    assert pipes  # the layer is loaded
    for p in pipes:
        for z in (13, 15, 17):
            t = TMS.tile(p["lon"], p["lat"], z)
            r = tiles.get(f"/tiles/WebMercatorQuad/{z}/{t.y}/{t.x}")
            assert r.status_code in (200, 204)
            assert b"water_pipes" not in r.content and b"ONG-1" not in r.content
    listed = tiles.get("/tiles/WebMercatorQuad").json()
    assert "water_pipes" not in {layer["id"] for layer in listed["layers"]}


def test_no_personal_data_in_any_tile_byte(tiles, conn):
    # the extent of this module's parcels (other tests load more parcels elsewhere)
    ext = conn.execute("SELECT ST_XMin(e) x0, ST_YMin(e) y0, ST_XMax(e) x1, ST_YMax(e) y1 "
                       "FROM (SELECT ST_Extent(geom) e FROM data.cadastral_parcels "
                       "WHERE owner_id_no = ANY(%s)) s", (list(SECRET_IDS),)).fetchone()
    seen = 0
    for z in (14, 15, 16, 17):
        for t in TMS.tiles(ext["x0"], ext["y0"], ext["x1"], ext["y1"], [z]):
            for path in (f"/collections/cadastral_parcels/tiles/WebMercatorQuad/{z}/{t.y}/{t.x}",
                         f"/tiles/WebMercatorQuad/{z}/{t.y}/{t.x}"):
                r = tiles.get(path, headers={"Accept-Encoding": "identity"})
                assert r.status_code in (200, 204)
                assert_clean(r.content, path)
                seen += r.status_code == 200
    assert seen > 40
    for path in ("/collections/cadastral_parcels/tiles/WebMercatorQuad",
                 "/collections/cadastral_parcels/tiles/WebMercatorQuad?f=tilejson",
                 "/tiles/WebMercatorQuad", "/tiles/WebMercatorQuad?f=tilejson"):
        assert_clean(tiles.get(path).content, path)


def test_the_database_holds_the_personal_values(conn, tiles):
    row = conn.execute("SELECT count(*) AS n FROM data.cadastral_parcels "
                       "WHERE owner_id_no = %s", (SECRET_IDS[5],)).fetchone()
    assert row["n"] == 1  # so the tile checks above are not vacuous
