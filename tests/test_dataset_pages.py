"""Dataset pages (/datasets, /datasets/{id}) against real servers: the sample set (every
public dataset listed, restricted ones 404, each page's facts equal to the database and the
layer file, every link answering), and a layer file with hostile text (escaped)."""

from __future__ import annotations

import shutil

import geopandas as gpd
import httpx
import lxml.html
import pytest
import shapely

from gis.codelists import CODELISTS
from gis.layerdef import load_layer_defs
from services.datasets.labels import FREQUENCY
from tests.builders import write
from tests.conftest import ROOT, run_gis, serve

pytest_plugins = ["tests.planning_fixtures"]


def _html(r: httpx.Response):
    assert r.status_code == 200, (r.url, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("text/html")
    return lxml.html.fromstring(r.content)


def _text(node) -> str:
    return " ".join(node.text_content().split())


def _public(pdb) -> set[str]:
    return {r["id"] for r in pdb.execute(
        "SELECT id FROM spp.layers WHERE current_version IS NOT NULL AND "
        "access_level = 'public'")}


def test_index_lists_every_public_dataset_and_nothing_else(web, pdb):
    for lang, heading in (("vi", "Danh mục dữ liệu"), ("en", "Datasets")):
        doc = _html(web.get("/datasets", params={"lang": lang}))
        listed = {tr.get("data-dataset") for tr in doc.xpath("//tr[@data-dataset]")}
        assert listed == _public(pdb)
        assert {"cadastral_parcels", "flood_depth_100y"} <= listed
        assert "water_pipes" not in listed and heading in _text(doc.xpath("//h1")[0])
        for a in doc.xpath("//tr[@data-dataset]//a"):
            assert web.get(a.get("href")).status_code == 200


@pytest.mark.parametrize("path", ["/datasets/water_pipes", "/datasets/water_pipes?lang=en",
                                  "/datasets/no_such_layer", "/datasets/%3Cscript%3E"])
def test_hidden_and_missing_datasets_are_404(web, path):
    r = web.get(path)
    assert r.status_code == 404  # an OGC exception document, never an HTML echo of the id
    assert "html" not in r.headers["content-type"]


def test_a_bad_language_is_a_clear_400(web):
    r = web.get("/datasets/cadastral_parcels", params={"lang": "fr"})
    assert r.status_code == 400 and "lang" in r.text


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_vector_dataset_page_says_what_the_database_and_file_say(web, pdb, lang):
    lid = "cadastral_parcels"
    layer = load_layer_defs()[lid]
    doc = _html(web.get(f"/datasets/{lid}", params={"lang": lang}))
    text = _text(doc)
    assert _text(doc.xpath("//*[@data-testid='title']")[0]) == getattr(layer.title, lang)
    assert _text(doc.xpath("//*[@data-testid='description']")[0]) == \
        " ".join(getattr(layer.description, lang).split())
    row = pdb.execute(
        "SELECT l.feature_count, v.count_rejected, v.operation FROM spp.layers l JOIN "
        "spp.layer_versions v ON v.layer_id = l.id AND v.version = l.current_version "
        "WHERE l.id = %s", (lid,)).fetchone()
    n = pdb.execute("SELECT count(*) AS n FROM data.cadastral_parcels").fetchone()["n"]
    assert n == row["feature_count"]
    assert _text(doc.xpath("//*[@data-testid='feature-count']")[0]) == f"{n:,}"
    assert f"{row['count_rejected']:,}" in _text(doc.xpath("//*[@data-testid='rejected']")[0])
    assert row["operation"] and row["operation"] in _text(
        doc.xpath("//*[@data-testid='crs-operation']")[0])
    md = layer.metadata
    assert _text(doc.xpath("//*[@data-testid='lineage']")[0]) == \
        " ".join(getattr(md.lineage, lang).split())
    assert _text(doc.xpath("//*[@data-testid='frequency']")[0]) == \
        FREQUENCY[md.update_frequency][0 if lang == "vi" else 1]
    assert doc.xpath(f"//a[@href='mailto:{md.contact.email}']")
    assert doc.xpath("//a[@rel='license']")[0].get("href").endswith(f"{layer.licence}.html")
    # the data dictionary: every field the public may see, and no personal one
    fields = [tr.get("data-field") for tr in doc.xpath("//tr[@data-field]")]
    assert fields == [f.name for f in layer.fields if not f.personal]
    assert "owner_name" not in fields and "owner_name" not in text
    codes = doc.xpath("//details[@data-codelist='land_use']//tr[td]")
    meanings = {_text(tr[0]): _text(tr[1]) for tr in codes}
    assert meanings["ODT"] == getattr(CODELISTS["land_use"]["ODT"], lang)
    assert len(meanings) >= 40


def _links(doc) -> dict[str, list[str]]:
    return {ul.get("data-links"): [a.get("href") for a in ul.xpath(".//a")]
            for ul in doc.xpath("//ul[@data-links]")}


@pytest.mark.parametrize("lid", ["cadastral_parcels", "street_lights", "flood_depth_100y"])
def test_every_link_of_a_page_answers(web, planning_server, lid):
    links = _links(_html(web.get(f"/datasets/{lid}")))
    flat = [h for hs in links.values() for h in hs]
    assert links["download"] and links["api"] and links["metadata"]
    for must in ("/catalog.jsonld", "/catalog.ttl", f"/ogc/collections/{lid}/metadata.xml",
                 f"/ogc/collections/catalog/items/{lid}"):
        assert any(must in h for h in flat), must
    if lid != "flood_depth_100y":
        for fmt in ("csv", "gpkg", "shp", "geojson"):
            assert any(f"f={fmt}" in h for h in links["download"]), fmt
        assert any("f=sld" in h for h in flat) and any("f=qml" in h for h in flat)
    for href in flat:
        if "{" in href or not href.startswith(planning_server):
            continue  # tile templates; the licence text at spdx.org
        r = web.get(href)
        assert r.status_code == 200, (href, r.status_code, r.text[:200])


def test_raster_dataset_page_shows_its_classes(web):
    doc = _html(web.get("/datasets/flood_depth_100y", params={"lang": "en"}))
    layer = load_layer_defs()["flood_depth_100y"]
    text = _text(doc.xpath("//*[@data-testid='dictionary']")[0])
    assert layer.value.en in text
    for cl in layer.classes:
        assert cl.label.en in text


# -- hostile layer text ----------------------------------------------------------------------
HOSTILE = "hostile_notes"
EVIL = "</script><script>alert('x')</script><img src=x onerror=alert(1)> & \"q\""


@pytest.fixture(scope="module")
def hostile_server(own_database, session_dir):
    layers = session_dir / "layers_hostile"
    shutil.copytree(ROOT / "layers", layers, dirs_exist_ok=True)
    quoted = EVIL.replace("\\", "\\\\").replace('"', '\\"')
    (layers / f"{HOSTILE}.yaml").write_text(f"""\
# Notes with hostile text in every free-text key. Format: see layers/README.md.
id: {HOSTILE}
title: {{vi: "Ghi chú {quoted}", en: "Notes {quoted}"}}
description: {{vi: "Mô tả {quoted}", en: "About {quoted}"}}
domain: social
owner: {{vi: "Sở {quoted}", en: "Dept {quoted}"}}
owner_code: sxd
keywords: ["{quoted}", notes]
metadata:
  topic: society
  update_frequency: asNeeded
  contact:
    name: {{vi: "Phòng {quoted}", en: "Office {quoted}"}}
    email: notes@cantho.gov.vn
  lineage: {{vi: "Nguồn {quoted}", en: "Source {quoted}"}}
geometry: Point
fields:
  - name: note
    label: {{vi: "Ghi chú {quoted}", en: "Note {quoted}"}}
    description: {{vi: "Nội dung {quoted}", en: "Text {quoted}"}}
source: {{crs: wgs84}}
""", encoding="utf-8")
    env = {"SPP_LAYERS_DIR": str(layers), "SPP_DATA_DIR": str(session_dir / "hostile")}
    notes = gpd.GeoDataFrame({"note": [EVIL, "ok"]},
                             geometry=[shapely.Point(105.78, 10.03),
                                       shapely.Point(105.781, 10.031)], crs="OGC:CRS84")
    run_gis("load", str(write(notes, session_dir / "hostile_data" / "notes.geojson")),
            "--layer", HOSTILE, env=env, check=True)
    with serve(own_database, session_dir / "hostile_serve.log", **env) as root:
        yield root


@pytest.mark.parametrize("path", [f"/datasets/{HOSTILE}", f"/datasets/{HOSTILE}?lang=en",
                                  "/datasets"])
def test_layer_text_is_escaped(hostile_server, path):
    r = httpx.get(hostile_server + path, timeout=60)
    doc = _html(r)
    assert "<script>alert" not in r.text and "<img src=x" not in r.text
    assert "&lt;/script&gt;&lt;script&gt;alert(" in r.text  # shown as text, not run
    assert not doc.xpath("//img") and len(doc.xpath("//script")) <= 2  # MapLibre + preview
    assert EVIL in _text(doc) or path == "/datasets" and "&lt;img" in r.text


# -- the preview map in a real browser -------------------------------------------------------
def test_preview_map_draws_from_this_server_only(planning_server, web):
    """Headless chromium (as tests/test_web_map.py): each preview draws its dataset from our
    tiles and no request leaves the server (MapLibre vendored, no CDN, no glyph server)."""
    import json
    import subprocess

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (./spp setup installs it)")
    assert (ROOT / "services/web/node_modules/playwright-core").is_dir(), \
        "services/web/node_modules is missing: run ./spp setup (npm ci in services/web)"
    page = web.get("/datasets/cadastral_parcels")
    assert "/static/vendor/maplibre-gl/maplibre-gl.js" in page.text
    spec = ROOT / "tests" / "web" / "dataset.spec.mjs"
    proc = subprocess.run([node, str(spec), planning_server, "cadastral_parcels",
                           "street_lights", "flood_depth_100y"], capture_output=True,
                          text=True, timeout=300, cwd=ROOT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"no result from the browser:\n{proc.stdout}\n{proc.stderr}"
    result = json.loads(lines[-1])
    assert proc.returncode == 0 and result["ok"], json.dumps(result, ensure_ascii=False,
                                                             indent=1) + proc.stderr
    assert result["seen"]["pages"]["cadastral_parcels"]["feats"] > 10
