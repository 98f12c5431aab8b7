"""OGC API - Styles: MapLibre styles that are structurally valid and point at this service's
TileJSON, the same colours in SLD 1.1 and QML (land use from the code list), legends, the
committed style files up to date, and no style of a layer the public may not see."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import httpx
import pytest

from gis.codelists import LAND_USE
from tests.conftest import ROOT

pytest_plugins = ["tests.tiles_fixtures"]

HEX = re.compile(r"#[0-9A-Fa-f]{6}\b")
SE = "{http://www.opengis.net/se}"
LOADED = ["cadastral_parcels", "fire_hydrants", "roads"]


def colours_in(value) -> set[str]:
    return {c.upper() for c in HEX.findall(json.dumps(value))}


def maplibre_colours(style: dict) -> set[str]:
    return set().union(*(colours_in(lyr.get("paint", {})) for lyr in style["layers"]
                         if lyr["type"] != "background"))


def sld_colours(text: str) -> set[str]:
    root = ET.fromstring(text.encode())
    return {p.text.upper() for p in root.iter(f"{SE}SvgParameter")
            if p.get("name") in ("fill", "stroke")}


def qml_colours(text: str) -> set[str]:
    root = ET.fromstring(text.split("\n", 1)[1].encode())  # past the DOCTYPE line
    out = set()
    for opt in root.iter("Option"):
        if opt.get("name") in ("color", "outline_color", "line_color"):
            r, g, b, a = map(int, opt.get("value").split(","))
            if a:
                out.add(f"#{r:02X}{g:02X}{b:02X}")
    for ts in root.iter("text-style"):
        r, g, b, _ = map(int, ts.get("textColor").split(","))
        out.add(f"#{r:02X}{g:02X}{b:02X}")
    for buf in root.iter("text-buffer"):
        r, g, b, _ = map(int, buf.get("bufferColor").split(","))
        out.add(f"#{r:02X}{g:02X}{b:02X}")
    return out


def test_style_list_has_basemap_and_the_visible_layers(tiles):
    doc = tiles.get("/styles").json()
    ids = [s["id"] for s in doc["styles"]]
    assert doc["default"] == "basemap" and ids[0] == "basemap"
    assert set(LOADED) <= set(ids) and "water_pipes" not in ids
    for s in doc["styles"]:
        types = {lk["type"] for lk in s["links"] if lk["rel"] == "stylesheet"}
        assert "application/vnd.mapbox.style+json" in types
        assert all(lk["href"].startswith("http://") for lk in s["links"])


@pytest.mark.parametrize("style_id", ["basemap", *LOADED])
def test_maplibre_style_is_structurally_valid(tiles, style_id):
    r = tiles.get(f"/styles/{style_id}", params={"f": "mapbox"})
    assert r.status_code == 200 and r.headers["content-type"].startswith(
        "application/vnd.mapbox.style+json")
    style = r.json()
    assert style["version"] == 8 and set(style["sources"]) == {"spp"}
    src = style["sources"]["spp"]
    assert src["type"] == "vector" and src["url"].startswith("http://127.0.0.1:")
    tilejson = httpx.get(src["url"]).json()
    fields = {v["id"]: set(v["fields"]) for v in tilejson["vector_layers"]}
    ids = [lyr["id"] for lyr in style["layers"]]
    assert len(ids) == len(set(ids))
    for lyr in style["layers"]:
        if lyr["type"] == "background":
            continue
        assert lyr["source"] == "spp" and lyr["source-layer"] in fields, lyr["id"]
        used = set(re.findall(r'\["get", "([a-z_0-9]+)"\]', json.dumps(lyr)))
        assert used <= fields[lyr["source-layer"]], (lyr["id"], used)
    # labels' glyphs come from this server (/fonts): no address outside it
    root = str(tiles.base_url).split("/ogc")[0]
    assert style["glyphs"] == root + "/fonts/{fontstack}/{range}.pbf"
    assert "://" not in json.dumps(style).replace(str(tiles.base_url), "").replace(
        style["glyphs"], "")
    if style_id != "basemap":
        assert {lyr["source-layer"] for lyr in style["layers"]} == {style_id}
        assert set(fields) == {style_id}
    else:
        assert set(LOADED) <= {lyr.get("source-layer") for lyr in style["layers"]}


def test_styles_pass_the_maplibre_validator(tiles, tmp_path):
    # the validator ships with maplibre-gl, which the web map installs from npm
    cli = shutil.which("gl-style-validate") or str(
        ROOT / "services" / "web" / "node_modules" / ".bin" / "gl-style-validate")
    if not shutil.which("node") or not shutil.which(cli):
        pytest.skip("node or @maplibre/maplibre-gl-style-spec (gl-style-validate) missing")
    for style_id in ["basemap", *LOADED]:
        path = tmp_path / f"{style_id}.json"
        path.write_bytes(tiles.get(f"/styles/{style_id}", params={"f": "mapbox"}).content)
        proc = subprocess.run([cli, str(path)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0 and not proc.stdout.strip(), (style_id, proc.stdout,
                                                                  proc.stderr)


@pytest.mark.parametrize("style_id", LOADED)
def test_sld_and_qml_draw_the_same_colours(tiles, style_id):
    style = tiles.get(f"/styles/{style_id}", params={"f": "mapbox"}).json()
    sld = tiles.get(f"/styles/{style_id}", params={"f": "sld"})
    assert sld.status_code == 200 and "sld" in sld.headers["content-type"]
    root = ET.fromstring(sld.content)  # well-formed
    assert root.tag == "{http://www.opengis.net/sld}StyledLayerDescriptor"
    assert root.get("version") == "1.1.0"
    # the same colours as the MapLibre style, its labels' included
    expected = maplibre_colours(style)
    assert sld_colours(sld.text) == expected
    qml = tiles.get(f"/styles/{style_id}", params={"f": "qml"})
    assert qml.status_code == 200 and qml.text.startswith("<!DOCTYPE qgis")
    assert qml_colours(qml.text) == expected


def test_land_use_colours_follow_the_code_list(tiles):
    style = tiles.get("/styles/cadastral_parcels", params={"f": "mapbox"}).json()
    fill = next(lyr for lyr in style["layers"] if lyr["type"] == "fill")
    expr = fill["paint"]["fill-color"]
    assert expr[:2] == ["match", ["get", "land_use_code"]]
    pairs = dict(zip((v[0] for v in expr[2:-1:2]), expr[3:-1:2], strict=True))
    for code in ("LUC", "ODT", "ONT", "CLN", "NTS", "DGT", "TMD", "SON"):
        assert pairs[code] == LAND_USE[code].color.upper(), code
    sld = ET.fromstring(tiles.get("/styles/cadastral_parcels", params={"f": "sld"}).content)
    for rule in sld.iter(f"{SE}Rule"):
        literal = rule.find(".//{http://www.opengis.net/ogc}Literal")
        if literal is not None and literal.text == "LUC":
            fills = [p.text for p in rule.iter(f"{SE}SvgParameter") if p.get("name") == "fill"]
            assert fills == [LAND_USE["LUC"].color.upper()]
            break
    else:
        raise AssertionError("no SLD rule for LUC")


def test_legend(tiles):
    doc = tiles.get("/styles/cadastral_parcels/legend").json()
    (layer,) = doc["layers"]
    odt = next(e for e in layer["entries"] if e.get("values") == ["ODT"])
    assert odt["label"]["vi"].startswith("ODT — Đất ở tại đô thị") and odt["label"]["en"]
    assert odt["color"] == LAND_USE["ODT"].color.upper() and odt["kind"] == "fill"
    assert odt["geometry"] == "polygon"
    base = tiles.get("/styles/basemap/legend").json()
    assert set(LOADED) <= {lyr["id"] for lyr in base["layers"]}
    assert "water_pipes" not in {lyr["id"] for lyr in base["layers"]}
    hydrants = next(lyr for lyr in base["layers"] if lyr["id"] == "fire_hydrants")
    assert {e["kind"] for e in hydrants["entries"]} == {"circle"}


@pytest.mark.parametrize("path", ["/styles/{id}", "/styles/{id}?f=mapbox", "/styles/{id}?f=sld",
                                  "/styles/{id}?f=qml", "/styles/{id}/legend"])
def test_restricted_layer_has_no_style(tiles, path):
    hidden = tiles.get(path.format(id="water_pipes"))
    missing = tiles.get(path.format(id="no_such_layer"))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["code"] == missing.json()["code"]


def test_basemap_leaves_out_restricted_layers_and_bad_formats(tiles):
    assert "water_pipes" not in tiles.get("/styles/basemap", params={"f": "mapbox"}).text
    assert "water_pipes" not in tiles.get("/styles/basemap", params={"f": "sld"}).text
    assert tiles.get("/styles/basemap", params={"f": "qml"}).status_code == 400
    assert tiles.get("/styles/roads", params={"f": "png"}).status_code == 400


def test_style_files_are_up_to_date_and_cover_every_layer():
    from gis.layerdef import VectorLayerDef, load_layer_defs

    proc = subprocess.run([sys.executable, "styles/build.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for layer in load_layer_defs(ROOT / "layers").values():
        if not isinstance(layer, VectorLayerDef):
            continue
        style = json.loads((ROOT / "styles" / f"{layer.style_name}.json").read_text())
        tile_fields = set(layer.tiles.fields)
        for lyr in style["layers"]:
            used = set(re.findall(r'\["get", "([a-z_0-9]+)"\]', json.dumps(lyr)))
            assert used <= tile_fields, (layer.id, used - tile_fields)
            assert lyr["minzoom"] >= layer.tiles.min_zoom
