"""The map's labels: glyph PBFs made from the Debian font and served at /fonts (format,
coverage of Vietnamese, ranges, caching, bad input), the styles' glyphs URL and label layers
from the layer files, and the labels drawn by MapLibre in a real browser with their
diacritics, nothing fetched from outside (tests/web/labels.spec.mjs)."""

from __future__ import annotations

import json
import shutil
import subprocess
import unicodedata

import httpx
import mapbox_vector_tile
import morecantile
import pytest
import shapely

from gis import fonts
from gis.layerdef import VectorLayerDef, load_layer_defs
from gis.styles import build
from tests.conftest import ROOT, serve

pytest_plugins = ["tests.labels_fixtures"]
SPEC = ROOT / "tests" / "web" / "labels.spec.mjs"
TMS = morecantile.tms.get("WebMercatorQuad")
VIETNAMESE = "ĐđĂăÂâÊêÔôƠơƯư" + "ÀÁẢÃẠàáảãạẦẤẨẪẬầấẩẫậẰẮẲẴẶằắẳẵặỀẾỂỄỆềếểễệỜỚỞỠỢờớởỡợỪỨỬỮỰừứửữự"
LABELLED = {"roads", "admin_units", "waterways", "cadastral_parcels", "address_points",
            "investment_projects", "land_use_plan_zones"}


def decode(data: bytes) -> list[dict]:
    """A small independent reader of the glyph protobuf: [{name, range, glyphs: {id: {...}}}]."""
    def fields(buf):
        i = 0
        while i < len(buf):
            key, i = varint(buf, i)
            num, wire = key >> 3, key & 7
            if wire == 0:
                value, i = varint(buf, i)
            elif wire == 2:
                n, i = varint(buf, i)
                value, i = buf[i:i + n], i + n
            else:
                raise AssertionError(f"unexpected wire type {wire}")
            yield num, value

    def varint(buf, i):
        shift = result = 0
        while True:
            b = buf[i]
            i += 1
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result, i

    def zigzag(n):
        return (n >> 1) ^ -(n & 1)

    stacks = []
    for num, stack in fields(data):
        assert num == 1
        out = {"glyphs": {}}
        for n, v in fields(stack):
            if n == 1:
                out["name"] = v.decode()
            elif n == 2:
                out["range"] = v.decode()
            elif n == 3:
                g = {"bitmap": b""}
                for gn, gv in fields(v):
                    g[{1: "id", 2: "bitmap", 3: "width", 4: "height", 5: "left", 6: "top",
                       7: "advance"}[gn]] = gv
                g["left"], g["top"] = zigzag(g["left"]), zigzag(g["top"])
                out["glyphs"][g["id"]] = g
        stacks.append(out)
    return stacks


@pytest.fixture(scope="module")
def defs():
    return load_layer_defs(ROOT / "layers")


def test_glyphs_cover_vietnamese_in_maplibre_format(labels_server):
    for font in fonts.FONTS:
        got = {}
        for start in fonts.RANGES:
            r = httpx.get(f"{labels_server}/fonts/{font}/{start}-{start + 255}.pbf", timeout=60)
            assert r.status_code == 200 and r.headers["content-type"] == "application/x-protobuf"
            (stack,) = decode(r.content)
            assert stack["name"] == font and stack["range"] == f"{start}-{start + 255}"
            for gid, g in stack["glyphs"].items():
                assert start <= gid <= start + 255
                # SDF: (width + 2 x 3 px border) x (height + border) bytes, edge at 192
                assert len(g["bitmap"]) == ((g["width"] + 6) * (g["height"] + 6)
                                            if g["width"] else 0), (font, gid)
            got.update(stack["glyphs"])
        # every letter of Vietnamese, precomposed and decomposed (base + combining marks)
        needed = set(VIETNAMESE) | set(unicodedata.normalize("NFD", VIETNAMESE))
        needed |= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/-.,()–")
        missing = sorted(c for c in needed if ord(c) not in got)
        assert not missing, (font, missing)
        e_dot = got[ord("ệ")]  # drawn: a tall glyph (circumflex over the e, dot below)
        e = got[ord("e")]
        assert e_dot["height"] > e["height"] + 6 and e_dot["top"] > e["top"]
        assert max(e_dot["bitmap"]) > 192 and min(e_dot["bitmap"]) == 0  # in and far out
        assert sum(b >= 192 for b in e_dot["bitmap"]) > 20  # inside the glyph's outline
        assert got[ord(" ")]["width"] == 0 and got[ord(" ")]["advance"] > 0
        # `top` counts from the ascender line (MapLibre's origin), so a capital's is below 0
        # and its dot-below letter's bottom lies under the baseline
        a, a_dot = got[ord("a")], got[ord("ạ")]
        assert -12 < got[ord("E")]["top"] < 0
        assert a_dot["top"] - a_dot["height"] < a["top"] - a["height"]


def test_font_stacks_ranges_and_caching(labels_server):
    url = f"{labels_server}/fonts/Open Sans Regular,DejaVu Sans Bold,DejaVu Sans Regular/0-255.pbf"
    r = httpx.get(url, timeout=60)
    assert r.status_code == 200  # the first font we have
    assert decode(r.content)[0]["name"] == "DejaVu Sans Bold"
    assert "public" in r.headers["cache-control"] and "max-age" in r.headers["cache-control"]
    again = httpx.get(url, headers={"If-None-Match": r.headers["etag"]}, timeout=30)
    assert again.status_code == 304 and not again.content
    # a range no Vietnamese text needs is made on request (DejaVu has Cyrillic)
    cyr = httpx.get(f"{labels_server}/fonts/DejaVu Sans Regular/1024-1279.pbf", timeout=60)
    assert cyr.status_code == 200 and 0x416 in decode(cyr.content)[0]["glyphs"]
    for bad in ("Comic Sans/0-255.pbf", "DejaVu Sans Regular/1-256.pbf",
                "DejaVu Sans Regular/0-256.pbf", "DejaVu Sans Regular/65536-65791.pbf",
                "DejaVu Sans Regular/-256-0.pbf", "DejaVu Sans Regular/abc.pbf",
                "DejaVu Sans Regular/99999999999999999999-100000000000000000254.pbf",
                ",,,,/0-255.pbf", "DejaVu Sans Regular/0-255.pbf.pbf", f"{'x,' * 400}/0-255.pbf"):
        r = httpx.get(f"{labels_server}/fonts/{bad}", timeout=30)
        assert r.status_code == 404, (bad, r.status_code)
    doc = httpx.get(f"{labels_server}/ogc/openapi", params={"f": "json"}, timeout=30).json()
    op = doc["paths"]["/fonts/{fontstack}/{fontrange}.pbf"]["get"]
    assert "application/x-protobuf" in op["responses"]["200"]["content"]


def test_styles_point_at_our_glyphs_and_label_from_layer_files(labels_server, defs):
    style = httpx.get(f"{labels_server}/ogc/styles/basemap", params={"f": "mapbox"},
                      timeout=30).json()
    assert style["glyphs"] == f"{labels_server}/fonts/{{fontstack}}/{{range}}.pbf"
    symbols = {lyr["source-layer"]: lyr for lyr in style["layers"] if lyr["type"] == "symbol"}
    assert LABELLED <= set(symbols)
    for lid in LABELLED:
        layer = defs[lid]
        assert isinstance(layer, VectorLayerDef) and layer.style.label, lid
        lb = layer.style.label
        assert set(lb.fields) <= set(layer.tiles.fields), lid  # the tiles carry the text
        sym = symbols[lid]
        assert sym["minzoom"] == max(lb.min_zoom, layer.tiles.min_zoom)
        assert sym["layout"]["text-font"][0] in fonts.FONTS  # a font /fonts serves
        assert (sym["layout"].get("symbol-placement") == "line") == lb.along_line, lid
    assert symbols["roads"]["layout"]["symbol-placement"] == "line"
    assert symbols["waterways"]["layout"]["symbol-placement"] == "line"
    assert symbols["cadastral_parcels"]["minzoom"] == 17
    assert symbols["cadastral_parcels"]["layout"]["text-field"] == [
        "concat", ["to-string", ["coalesce", ["get", "sheet_no"], ""]], "/",
        ["to-string", ["coalesce", ["get", "parcel_no"], ""]]]
    assert symbols["address_points"]["minzoom"] == 18
    assert symbols["admin_units"]["layout"]["text-font"] == ["DejaVu Sans Bold"]
    # the committed style files are what the layer files make
    for lid in LABELLED:
        committed = json.loads((ROOT / "styles" / f"{defs[lid].style_name}.json").read_text())
        assert committed == build(defs[lid])


def test_a_polygon_label_point_comes_once_in_the_tile_it_falls_in(labels_server):
    """The ward "Ninh Kiều" crosses several z15 tiles: each carries a piece of its polygon,
    exactly one carries its label point, inside the ward, with the name and no other field."""
    ward = shapely.box(105.772, 10.024, 105.786, 10.042)
    tiles = list(TMS.tiles(*ward.bounds, zooms=[15]))
    pieces, points = 0, []
    for t in tiles:
        r = httpx.get(f"{labels_server}/ogc/collections/admin_units/tiles/WebMercatorQuad/"
                      f"{t.z}/{t.y}/{t.x}", timeout=30)
        assert r.status_code in (200, 204), r.status_code
        layer = mapbox_vector_tile.decode(r.content).get("admin_units", {"features": []})
        mine = [f for f in layer["features"] if f["properties"].get("name") == "Ninh Kiều"]
        pieces += sum(f["geometry"]["type"].endswith("Polygon") for f in mine)
        points += [(t, f) for f in mine if f["geometry"]["type"] == "Point"]
    assert pieces >= 4 and len(tiles) >= 4
    assert len(points) == 1, points
    t, f = points[0]
    assert set(f["properties"]) == {"name"}  # the label's text only
    x, y = f["geometry"]["coordinates"]
    m = TMS.xy_bounds(t)  # tile grid (y up, as mapbox_vector_tile decodes) to lon/lat
    point = TMS.lnglat(m.left + x / 4096 * (m.right - m.left),
                       m.bottom + y / 4096 * (m.top - m.bottom))
    lon, lat = point.x, point.y
    assert ward.buffer(-0.001).contains(shapely.Point(lon, lat)), (lon, lat)


def test_glyphs_url_setting_still_overrides(labels_db, session_dir):
    url, env = labels_db
    own = "https://tiles.cantho.gov.vn/fonts/{fontstack}/{range}.pbf"
    with serve(url, session_dir / "labels_glyphs_serve.log", SPP_GLYPHS_URL=own,
               SPP_DATA_DIR=env["SPP_DATA_DIR"]) as root:
        style = httpx.get(f"{root}/ogc/styles/roads", params={"f": "mapbox"}, timeout=30).json()
    assert style["glyphs"] == own
    assert any(lyr["type"] == "symbol" for lyr in style["layers"])


def test_labels_render_with_diacritics_in_chromium(labels_server):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (./spp setup installs it)")
    proc = subprocess.run([node, str(SPEC), labels_server], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"no result from the browser test:\n{proc.stdout}\n{proc.stderr}"
    result = json.loads(lines[-1])
    assert proc.returncode == 0 and result["ok"], json.dumps(result, ensure_ascii=False,
                                                             indent=1) + proc.stderr
    seen = result["seen"]
    assert seen["glyphsUrl"] == f"{labels_server}/fonts/{{fontstack}}/{{range}}.pbf"
    wide, near = seen["wide"]["out"], seen["near"]["out"]
    assert {"Ninh Kiều", "Cái Răng"} <= set(wide.get("admin_units-label", []))
    assert "Đường 3 Tháng 2" in wide.get("roads-label", [])
    assert {"Sông Cần Thơ", "Rạch Ông Hữu"} <= set(wide.get("waterways-label", []))
    assert "Nguyễn Việt Hồng" in wide.get("roads-label", [])
    assert "Khu nhà ở Cửu Long" in wide.get("investment_projects-label", [])
    assert {"ODT", "TMD"} <= set(wide.get("land_use_plan_zones-label", []))
    assert "cadastral_parcels-label" not in wide and "address_points-label" not in wide
    assert {"12/1", "12/2", "12/3"} & set(near.get("cadastral_parcels-label", []))
    assert {"12", "14A", "16/3"} & set(near.get("address_points-label", []))
    assert "Đường 3 Tháng 2" in near.get("roads-label", [])
    assert seen["phone"]["out"].get("admin_units-label")
    # the ward's outline is cut by several tiles, its name is drawn once (its label point)
    assert seen["ward"]["pieces"] >= 3 and seen["ward"]["labels"] == 1, seen["ward"]
    # the glyphs came from here, with the Latin Extended Additional range (ề, ệ, ở, ữ...)
    assert seen["glyphs"] and all(p.startswith("/fonts/DejaVu Sans") for p in seen["glyphs"])
    assert any(p.endswith("/7680-7935.pbf") for p in seen["glyphs"])
    assert seen["outside"] == [] and not seen["errors"], seen["errors"]
    for name in ("01-wide", "02-names-close", "03-parcels-houses", "04-phone", "05-ward-once"):
        assert (ROOT / "tests" / "artifacts" / f"labels-{name}.png").stat().st_size > 10_000
