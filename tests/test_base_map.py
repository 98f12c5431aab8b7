"""The city base map: the base layer files (hydrography, buildings, place names) validate and
load real deliveries, the `base` style is composed from the layer files in their `map.base`
order (drawing, then 3D, then labels), the 3D layers come from `style.extrude`, the outside
base map is named only when SPP_BASEMAP_URL is set, and the web map switches base maps and
extrudes buildings and plan zones in a real browser (tests/web/basemap.spec.mjs) without a
request leaving the server."""

from __future__ import annotations

import json
import shutil
import subprocess

import httpx
import psycopg
import pytest

from gis.layerdef import LayerDefinitionError, VectorLayerDef, load_layer_defs, parse_layer_file
from gis.styles import base_layers, build, compose_base
from tests.conftest import ROOT

pytest_plugins = ["tests.basemap_fixtures"]

BASE_ORDER = ["water_surfaces", "waterways", "buildings", "roads", "admin_units", "place_names"]
NEW = ["waterways", "water_surfaces", "buildings", "place_names"]
SPEC = ROOT / "tests" / "web" / "basemap.spec.mjs"


@pytest.fixture(scope="module")
def defs():
    return load_layer_defs(ROOT / "layers")


def test_new_layer_files_validate_with_bilingual_texts_and_base_roles(defs):
    for lid in NEW:
        layer = defs[lid]
        assert isinstance(layer, VectorLayerDef) and layer.access.level == "public", lid
        assert layer.map.visible and layer.map.base is not None, lid
        assert layer.title.vi != layer.title.en and layer.keywords and layer.metadata, lid
        assert layer.style.label is None or layer.style.label.field in layer.tiles.fields
        assert all(f.aliases for f in layer.fields), lid  # delivery column names
    assert defs["waterways"].geometry == "MultiLineString"
    assert defs["water_surfaces"].geometry == "MultiPolygon"
    assert defs["place_names"].geometry == "Point"
    assert {"floors", "height", "building_use"} <= set(defs["buildings"].field)
    assert defs["waterways"].style.label.along_line  # river names follow the river


def test_base_layers_follow_map_base_order(defs):
    assert [d.id for d in base_layers(defs.values())] == BASE_ORDER
    # the orthophoto is the raster backdrop the switcher offers; rasters are not in the style
    backdrops = [d.id for d in defs.values() if d.kind == "raster" and d.map.base is not None]
    assert backdrops == ["orthophoto"]


def test_extrusions_come_from_style_extrude(defs):
    for lid, fields in {"buildings": ("height", "floors"),
                        "construction_plan_zones": ("height_limit", "max_floors")}.items():
        style = build(defs[lid])
        (ext,) = [lyr for lyr in style["layers"] if lyr["type"] == "fill-extrusion"]
        assert ext["metadata"] == {"spp:3d": True} and ext["layout"] == {"visibility": "none"}
        height = ext["paint"]["fill-extrusion-height"]
        assert height[0] == "case" and height[1] == ["has", fields[0]]
        assert height[3] == ["has", fields[1]]
        assert height[4] == ["*", ["max", 0, ["to-number", ["get", fields[1]]]], 3.3]
    assert not any(lyr["type"] == "fill-extrusion" for d in defs.values()
                   if isinstance(d, VectorLayerDef) and d.style.extrude is None
                   for lyr in build(d)["layers"])


def test_compose_base_draws_in_order_then_3d_then_labels(defs):
    layers = compose_base([build(d) for d in base_layers(defs.values())])
    kinds = ["label" if lyr["type"] == "symbol" else "3d" if lyr["type"] == "fill-extrusion"
             else "draw" for lyr in layers]
    assert kinds == sorted(kinds, key=["draw", "3d", "label"].index)
    drawn = [lyr["source-layer"] for lyr in layers if lyr["type"] not in ("symbol",
                                                                          "fill-extrusion")]
    assert list(dict.fromkeys(drawn)) == BASE_ORDER
    labels = [lyr["source-layer"] for lyr in layers if lyr["type"] == "symbol"]
    assert labels == [lid for lid in BASE_ORDER if defs[lid].style.label]


@pytest.mark.parametrize("text, problem", [
    ("  extrude: {height: name}", "style.extrude.height field 'name' must be an integer"),
    ("  extrude: {height: no_such}", "style.extrude.height field 'no_such' is not among"),
    ("  extrude: {floor_height: 3}", "extrude needs a height field, a floors field or both"),
    ("  extrude: {floors: floors}", "not in tiles.fields"),
])
def test_bad_extrude_is_refused_with_the_line(tmp_path, text, problem):
    src = (ROOT / "layers" / "buildings.yaml").read_text(encoding="utf-8")
    src = src.replace("  extrude: {height: height, floors: floors, floor_height: 3.3}", text)
    if "floors: floors" in text:
        src = src.replace("fields: [name, house_no, floors, height, building_use]",
                          "fields: [name, house_no, height, building_use]")
    path = tmp_path / "buildings.yaml"
    path.write_text(src, encoding="utf-8")
    with pytest.raises(LayerDefinitionError) as err:
        parse_layer_file(path)
    assert problem in str(err.value) and "buildings.yaml" in str(err.value)


def test_base_is_a_reserved_layer_id(tmp_path):
    src = (ROOT / "layers" / "place_names.yaml").read_text(encoding="utf-8")
    path = tmp_path / "base.yaml"
    path.write_text(src.replace("id: place_names", "id: base"), encoding="utf-8")
    with pytest.raises(LayerDefinitionError) as err:
        parse_layer_file(path)
    assert "reserved for the style of several layers" in str(err.value)


def test_deliveries_load_into_the_new_layers(basemap_db):
    url, _ = basemap_db
    with psycopg.connect(url) as conn:
        rows = dict(conn.execute(
            "SELECT building_code, coalesce(height, floors * 3.3) FROM data.buildings"
        ).fetchall())
        assert rows == pytest.approx({"NHA-1": 13.2, "NHA-2": 6 * 3.3, "NHA-3": 45.0})
        assert conn.execute("SELECT name, waterway_class FROM data.waterways ORDER BY 1"
                            ).fetchall() == [("Kênh Ông Tường", "Kênh"), ("Sông Cần Thơ", "Sông")]
        assert conn.execute("SELECT count(*) FROM data.water_surfaces WHERE area_plane_m2 > 0"
                            ).fetchone() == (2,)
        assert ("Chợ Cổ Cần Thơ", "Chợ") in conn.execute(
            "SELECT name, place_class FROM data.place_names").fetchall()


def base_style(root: str, **headers) -> dict:
    r = httpx.get(f"{root}/ogc/styles/base", params={"f": "mapbox"}, headers=headers,
                  timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def test_base_style_is_served_in_order(basemap_server, land_key):
    style = base_style(basemap_server)
    ids = [lyr["id"] for lyr in style["layers"]]
    assert ids[0] == "background"
    drawn = [lyr for lyr in style["layers"][1:] if lyr["type"] not in ("symbol",
                                                                       "fill-extrusion")]
    assert list(dict.fromkeys(lyr["source-layer"] for lyr in drawn)) == BASE_ORDER
    first_3d = min(i for i, lyr in enumerate(style["layers"]) if lyr["type"] == "fill-extrusion")
    assert all(lyr["type"] != "fill" for lyr in style["layers"][first_3d:])
    symbols = [i for i, lyr in enumerate(style["layers"]) if lyr["type"] == "symbol"]
    assert all(i > first_3d for i in symbols)  # labels on top (when glyphs are served)
    # its tiles hold the base layers only; the plan zone and the orthophoto are no base
    tilejson = httpx.get(style["sources"]["spp"]["url"], timeout=30).json()
    assert sorted(v["id"] for v in tilejson["vector_layers"]) == sorted(BASE_ORDER)
    assert "spp:outsideBasemap" not in style["metadata"]
    assert "://" not in json.dumps(style).replace(basemap_server, "")
    # staff see the same base style: the restricted orthophoto is a backdrop, not a layer
    assert base_style(basemap_server, **{"X-API-Key": land_key})["layers"] == style["layers"]
    listed = [s["id"] for s in httpx.get(f"{basemap_server}/ogc/styles").json()["styles"]]
    assert listed[:2] == ["basemap", "base"]
    assert httpx.get(f"{basemap_server}/ogc/styles/base", params={"f": "qml"}).status_code == 400
    sld = httpx.get(f"{basemap_server}/ogc/styles/base", params={"f": "sld"})
    assert sld.status_code == 200 and "Sông" in sld.text
    legend = httpx.get(f"{basemap_server}/ogc/styles/base/legend").json()
    assert [lyr["id"] for lyr in legend["layers"]] == BASE_ORDER


def test_basemap_draws_the_base_layers_below_the_thematic_ones(basemap_server):
    style = httpx.get(f"{basemap_server}/ogc/styles/basemap", params={"f": "mapbox"}).json()
    layers = style["layers"][1:]
    zone = next(i for i, lyr in enumerate(layers) if lyr["source-layer"] ==
                "construction_plan_zones" and lyr["type"] == "fill")
    base_drawn = [i for i, lyr in enumerate(layers) if lyr["source-layer"] in BASE_ORDER
                  and lyr["type"] not in ("symbol", "fill-extrusion")]
    assert max(base_drawn) < zone
    assert [layers[i]["source-layer"] for i in base_drawn] == [
        lyr["source-layer"] for lyr in layers if lyr["source-layer"] in BASE_ORDER
        and lyr["type"] not in ("symbol", "fill-extrusion")]
    extrusions = [lyr["id"] for lyr in layers if lyr["type"] == "fill-extrusion"]
    assert sorted(extrusions) == ["buildings-3d", "construction_plan_zones-3d"]


def test_outside_base_map_is_named_only_when_configured(outside_server, outside_tiles):
    style = base_style(outside_server)
    assert style["metadata"]["spp:outsideBasemap"] == outside_tiles.template
    assert outside_tiles.asked == []  # naming it fetches nothing


def test_styles_pass_the_maplibre_validator(basemap_server, tmp_path):
    cli = ROOT / "services" / "web" / "node_modules" / ".bin" / "gl-style-validate"
    if not shutil.which("node") or not cli.exists():
        pytest.skip("node or gl-style-validate missing")
    for sid in ("base", "basemap", "buildings", "construction_plan_zones"):
        path = tmp_path / f"{sid}.json"
        path.write_bytes(httpx.get(f"{basemap_server}/ogc/styles/{sid}",
                                   params={"f": "mapbox"}).content)
        proc = subprocess.run([str(cli), str(path)], capture_output=True, text=True,
                              timeout=60)
        assert proc.returncode == 0 and not proc.stdout.strip(), (sid, proc.stdout)


def test_base_map_switcher_and_3d_in_chromium(basemap_server, outside_server, outside_tiles,
                                              outside_style_server, land_key):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (./spp setup installs it)")
    proc = subprocess.run([node, str(SPEC), basemap_server, outside_server,
                           outside_tiles.root, land_key, outside_style_server],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"no result from the browser test:\n{proc.stdout}\n{proc.stderr}"
    result = json.loads(lines[-1])
    assert proc.returncode == 0 and result["ok"], json.dumps(result, ensure_ascii=False,
                                                             indent=1) + proc.stderr
    seen = result["seen"]
    assert seen["city"]["waterways"] > 0 and seen["city"]["buildings"] > 0
    assert seen["none"] == {k: 0 for k in seen["none"]}
    assert seen["publicOptions"] == ["city", "none"]
    assert "raster:orthophoto" in seen["staffOptions"]
    assert seen["outsideOptions"][-1] == "outside"
    assert any(p.startswith("/tiles/") for p in outside_tiles.asked)
    assert "/style.json" in outside_tiles.asked and "/fonts/" not in str(outside_tiles.asked)
    assert seen["outsideStyle"]["layers"] == ["spp-outside-paper", "spp-outside-land"]
    for name in ("basemap-01-city", "basemap-02-none", "basemap-03-3d",
                 "basemap-05-outside", "basemap-06-phone"):
        assert (ROOT / "tests" / "artifacts" / f"{name}.png").stat().st_size > 5_000


@pytest.mark.parametrize("lid", NEW)
def test_new_layers_have_sld_qml_and_a_legend(basemap_server, defs, lid):
    """QGIS and GeoServer users get the new layers' classes too (the 3D layer is the web
    map's only)."""
    for f, kind in (("sld", "sld"), ("qml", "qml")):
        r = httpx.get(f"{basemap_server}/ogc/styles/{lid}", params={"f": f}, timeout=30)
        assert r.status_code == 200 and kind in r.headers["content-type"], (lid, f)
        for c in defs[lid].style.classes:
            if f == "sld":
                assert c.color.upper() in r.text.upper(), (lid, c.color)
    legend = httpx.get(f"{basemap_server}/ogc/styles/{lid}/legend", timeout=30).json()
    labels = [e["label"]["vi"] for e in legend["layers"][0]["entries"]]
    assert [c.label.vi for c in defs[lid].style.classes] == labels[:len(defs[lid].style.classes)]
