"""Interop seen with real clients (besides QGIS, tests/test_qgis.py): the OpenAPI document
types every numeric parameter with its bounds (QGIS sizes its pages from `limit`), and GDAL's
MVT driver reads our vector tiles by URL (`.pbf`/`.mvt` names, XYZ order)."""

from __future__ import annotations

import json
import shutil
import subprocess

import mapbox_vector_tile
import morecantile
import pytest

from tests.ogc_fixtures import REGRESSION

pytest_plugins = ["tests.tiles_fixtures"]
TMS = morecantile.tms.get("WebMercatorQuad")
# parameters that hold numbers whatever a route calls them (tile addresses, sizes, counts)
NUMERIC_NAMES = {"limit", "offset", "z", "y", "x", "tileMatrix", "tileRow", "tileCol", "fid",
                 "lon", "lat", "zoom", "width", "height", "scale-denominator"}
NUMERIC_LISTS = {"bbox", "fids"}  # comma-separated numbers


def _parameters(doc: dict):
    refs = doc.get("components", {}).get("parameters", {})
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters" or not isinstance(op, dict):
                continue
            for p in [*item.get("parameters", []), *op.get("parameters", [])]:
                if "$ref" in p:
                    p = refs[p["$ref"].rsplit("/", 1)[1]]
                yield f"{method.upper()} {path}", p


def test_every_numeric_parameter_is_typed_with_bounds(tiles):
    doc = tiles.get("/openapi").json()
    problems, numeric = [], 0
    for where, p in _parameters(doc):
        schema, name = p.get("schema", {}), p["name"]
        kind = schema.get("type")
        if name in NUMERIC_NAMES and kind not in ("integer", "number"):
            problems.append(f"{where} {name}: a number declared as {kind!r}")
        if kind in ("integer", "number"):
            numeric += 1
            if "minimum" not in schema or "maximum" not in schema:
                problems.append(f"{where} {name}: no minimum/maximum")
            elif not p.get("required"):
                if "default" not in schema:
                    problems.append(f"{where} {name}: optional without a default")
                elif not schema["minimum"] <= schema["default"] <= schema["maximum"]:
                    problems.append(f"{where} {name}: default outside its bounds")
        if name in NUMERIC_LISTS and (kind != "array" or schema.get("items", {}).get(
                "type") not in ("integer", "number")):
            problems.append(f"{where} {name}: numbers declared as {kind!r}")
        if kind == "array" and schema.get("items", {}).get("type") in ("integer", "number"):
            if "minItems" not in schema or "maxItems" not in schema:
                problems.append(f"{where} {name}: a list of numbers of any length")
    assert not problems, "\n".join(problems)
    assert numeric >= 10
    items = doc["paths"]["/ogc/collections/{collectionId}/items"]["get"]["parameters"]
    limit = next(p for p in items if p["name"] == "limit")["schema"]
    assert limit == {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 10}


def _hydrant_tile(z: int) -> morecantile.Tile:
    lon, lat = REGRESSION["Ninh Kiều"][0]
    return TMS.tile(lon, lat, z)


def test_tile_names_with_extension_and_xyz_order(tiles):
    t = _hydrant_tile(15)
    base = "/collections/fire_hydrants/tiles/WebMercatorQuad"
    plain = tiles.get(f"{base}/{t.z}/{t.y}/{t.x}")
    assert plain.status_code == 200
    for path in (f"{base}/{t.z}/{t.y}/{t.x}.pbf", f"{base}/{t.z}/{t.y}/{t.x}.mvt",
                 f"{base}/xyz/{t.z}/{t.x}/{t.y}.pbf", f"{base}/xyz/{t.z}/{t.x}/{t.y}.mvt",
                 f"/tiles/WebMercatorQuad/xyz/{t.z}/{t.x}/{t.y}.pbf?collections=fire_hydrants"):
        r = tiles.get(path)
        assert r.status_code == 200 and r.content == plain.content, path
        assert r.headers["content-type"] == plain.headers["content-type"]
    assert tiles.get(f"{base}/{t.z}/{t.y}/{t.x}.png").status_code == 400
    assert tiles.get(f"{base}/{t.z}/{t.y}/{t.x}.pbf.pbf").status_code == 400
    assert tiles.get(f"{base}/xyz/{t.z}/{t.x}/{t.y}").status_code == 404
    assert tiles.get(f"{base}/xyz/3/8/0.pbf").status_code == 404  # outside the matrix
    assert tiles.get("/collections/water_pipes/tiles/WebMercatorQuad/xyz/15/0/0.pbf"
                     ).status_code == 404  # restricted: like a missing collection
    tj = tiles.get(base.rsplit("/", 1)[0] + "/WebMercatorQuad", params={"f": "tilejson"}).json()
    assert tj["tiles"][0].endswith("/{z}/{y}/{x}") and tj["tiles"][1].endswith(
        "/xyz/{z}/{x}/{y}.pbf")
    meta = tiles.get(base).json()
    hrefs = [lk["href"] for lk in meta["links"] if lk["rel"] == "item"]
    assert any(h.endswith("/{tileMatrix}/{tileRow}/{tileCol}.pbf") for h in hrefs)
    assert any(h.endswith("/xyz/{z}/{x}/{y}.pbf") for h in hrefs)


@pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="GDAL CLI missing")
@pytest.mark.parametrize("ext", ["pbf", "mvt"])
def test_gdal_mvt_driver_reads_a_tile_url(tile_server, tiles, session_dir, ext):
    """ogr2ogr MVT:…/xyz/{z}/{x}/{y}.pbf: GDAL finds the tile's place from its name; the
    hydrant lands where it is (within the tile's 4096-unit grid), with its attributes."""
    root = tile_server[0]
    t = _hydrant_tile(15)
    url = f"{root}/collections/fire_hydrants/tiles/WebMercatorQuad/xyz/{t.z}/{t.x}/{t.y}.{ext}"
    out = session_dir / f"gdal_mvt_{ext}.geojson"
    proc = subprocess.run(["ogr2ogr", "-f", "GeoJSON", "-t_srs", "EPSG:4326", str(out),
                           f"MVT:{url}", "fire_hydrants"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    feats = json.loads(out.read_text(encoding="utf-8"))["features"]
    want = mapbox_vector_tile.decode(tiles.get(url.removeprefix(root)).content)
    assert len(feats) == len(want["fire_hydrants"]["features"]) >= 1
    lon, lat = REGRESSION["Ninh Kiều"][0]
    x, y = min((f["geometry"]["coordinates"] for f in feats),
               key=lambda c: (c[0] - lon) ** 2 + (c[1] - lat) ** 2)
    assert any(f["properties"].get("hydrant_code", "").startswith("TN-") for f in feats)
    size = (TMS.xy_bounds(t).right - TMS.xy_bounds(t).left) / 4096  # metres a tile unit
    assert abs(x - lon) * 111_000 < 2 * size + 0.5 and abs(y - lat) * 111_000 < 2 * size + 0.5
