"""A layer the caller may not see is indistinguishable from one that does not exist, byte for
byte: the same status, body and headers (but Date and X-Request-ID) for restricted vector
tiles, styles and rasters as for a missing layer whose id has the same length, to the public
and to a key of a department without access."""

from __future__ import annotations

import httpx
import morecantile
import pytest

pytest_plugins = ["tests.access_fixtures", "tests.raster_fixtures"]
TMS = morecantile.tms.get("WebMercatorQuad")
ORTHO_TILE = TMS.tile(105.7786, 10.0316, 16)
PIPES, ORTHO = "water_pipes", "orthophoto"  # restricted: cantho_wasuco+sxd, snnmt+sxd
PATHS = [
    (PIPES, "GET", "/ogc/collections/{id}"),
    (PIPES, "GET", "/ogc/collections/{id}/tiles"),
    (PIPES, "GET", "/ogc/collections/{id}/changes"),
    (PIPES, "GET", "/ogc/collections/{id}/changes?since=1"),
    (PIPES, "GET", "/ogc/collections/{id}/tiles/WebMercatorQuad"),
    (PIPES, "GET", "/ogc/collections/{id}/tiles/WebMercatorQuad?f=tilejson"),
    (PIPES, "GET", "/ogc/collections/{id}/tiles/WebMercatorQuad/15/15466/26012"),
    (PIPES, "GET", "/ogc/tiles/WebMercatorQuad/15/15466/26012?collections={id}"),
    (PIPES, "GET", "/ogc/collections/{id}/tiles/WebMercatorQuad/xyz/15/26012/15466.pbf"),
    (PIPES, "GET", "/datasets/{id}"),
    (PIPES, "GET", "/datasets/{id}?lang=en"),
    (ORTHO, "GET", "/datasets/{id}"),
    (PIPES, "GET", "/ogc/styles/{id}?f=mapbox"),
    (PIPES, "GET", "/ogc/styles/{id}?f=sld"),
    (PIPES, "GET", "/ogc/styles/{id}/legend"),
    (PIPES, "GET", "/ogc/collections/{id}/metadata.xml"),
    (ORTHO, "GET", "/ogc/collections/{id}/metadata.xml"),
    (ORTHO, "GET", "/api/rasters/{id}"),
    (ORTHO, "GET", "/api/rasters/{id}/value?lon=105.7786&lat=10.0316"),
    (ORTHO, "GET", "/ogc/collections/{id}"),
    (ORTHO, "GET", "/ogc/collections/{id}/coverage?bbox=105.778,10.031,105.779,10.032"),
    (ORTHO, "GET", "/ogc/collections/{id}/map/tiles/WebMercatorQuad"),
    (ORTHO, "GET", "/ogc/collections/{id}/map/tiles/WebMercatorQuad/"
                   f"16/{ORTHO_TILE.y}/{ORTHO_TILE.x}?f=png"),
    (ORTHO, "POST", "/api/rasters/{id}/zonal"),
]
ZONAL_BODY = {"type": "Polygon", "coordinates": [[[105.778, 10.031], [105.779, 10.031],
                                                  [105.779, 10.032], [105.778, 10.031]]]}


def missing_like(layer_id: str) -> str:
    """An id no layer has, as long as `layer_id` (so Content-Length may match too)."""
    return ("no_such_layer_" + "z" * 40)[: len(layer_id)]


@pytest.fixture(scope="module")
def api(access_server, raster_data):
    with httpx.Client(base_url=access_server.removesuffix("/ogc"), timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def callers(keys):
    return {"public": {}, "another department": {"X-API-Key": keys["other"]}}


def _ask(api, method: str, path: str, headers: dict) -> httpx.Response:
    if method == "POST":
        return api.post(path, json=ZONAL_BODY, headers=headers)
    return api.get(path, headers=headers)


@pytest.mark.parametrize("layer_id,method,path", PATHS, ids=[p[2] for p in PATHS])
def test_a_hidden_layer_answers_exactly_as_a_missing_one(api, callers, keys, layer_id,
                                                          method, path):
    other = missing_like(layer_id)
    # the layer is there for a department that has access (zonal statistics of imagery
    # are a 400: found, but not values)
    seen = _ask(api, method, path.format(id=layer_id), {"X-API-Key": keys["sxd"]})
    assert seen.status_code in ((200, 204) if method == "GET" else (400,)), (
        seen.status_code, seen.text[:200])
    for who, headers in callers.items():
        hidden = _ask(api, method, path.format(id=layer_id), headers)
        missing = _ask(api, method, path.format(id=other), headers)
        assert hidden.status_code == missing.status_code == 404, (who, hidden.status_code,
                                                                  missing.status_code)
        assert hidden.content.replace(layer_id.encode(), other.encode()) == missing.content, (
            who, hidden.text, missing.text)
        per_request = ("date", "x-request-id")  # differ between any two requests
        h = {k: v for k, v in hidden.headers.items() if k not in per_request}
        m = {k: v for k, v in missing.headers.items() if k not in per_request}
        assert h == m, (who, h, m)
