"""Adding a layer is adding a file: one YAML file in a copy of layers/ (SPP_LAYERS_DIR) and a
`gis load` of its data, and the layer is served with its style and legend, found by the
search box, part of a parcel's planning information and in the web map's layer tree under its
domain, drawn at start, without any change to Python or JavaScript."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import httpx
import pytest
import shapely

from tests.builders import write
from tests.conftest import ROOT, run_gis, serve

NEW = "public_toilets"
LAYER_FILE = """\
# Public toilets (nhà vệ sinh công cộng). Format: see layers/README.md.
id: public_toilets
title: {vi: Nhà vệ sinh công cộng, en: Public toilets}
description:
  vi: Nhà vệ sinh công cộng trên đường phố, công viên và bến xe, kèm địa chỉ và tình trạng.
  en: Public toilets on streets, in parks and at bus stations, with address and condition.
domain: social
owner: {vi: Sở Xây dựng, en: Department of Construction}
owner_code: sxd
keywords: [nhà vệ sinh công cộng, tiện ích đô thị, public toilets, amenities]
metadata:
  topic: structure
  update_frequency: annually
  contact:
    name:
      vi: Phòng Hạ tầng kỹ thuật, Sở Xây dựng
      en: Technical Infrastructure Division, Department of Construction
    email: sxd@cantho.gov.vn
  lineage:
    vi: Đơn vị quản lý vệ sinh đô thị khảo sát vị trí bằng GNSS; Sở Xây dựng giao tệp hằng năm.
    en: Surveyed by GNSS by the urban sanitation contractor; delivered yearly by the department.
geometry: Point
natural_key: [toilet_code]
fields:
  - name: toilet_code
    label: {vi: Mã nhà vệ sinh, en: Toilet code}
    required: true
    aliases: [MaNVS]
  - name: name
    label: {vi: Tên, en: Name}
  - name: address
    label: {vi: Địa chỉ, en: Address}
  - name: status
    label: {vi: Tình trạng, en: Condition}
source: {crs: wgs84}
tiles: {min_zoom: 12, fields: [toilet_code, name, status]}
style:
  property: status
  color: "#7F8C8D"
  radius: 5
  classes:
    - {values: [Tốt], color: "#1ABC9C", label: {vi: Đang hoạt động, en: In service}}
    - {values: [Hỏng], color: "#E74C3C", label: {vi: Hư hỏng, en: Out of order}}
  label: {field: name, min_zoom: 16, color: "#117864"}
search: {fields: [address, name]}
map: {visible: true}
planning:
  role: nearest
  section: public_toilet
  order: 9
  title: {vi: Nhà vệ sinh công cộng gần nhất, en: Nearest public toilet}
"""
X0, Y0 = 105.7770, 10.0330  # a parcel in Ninh Kiều


@pytest.fixture(scope="module")
def env(session_dir):
    layers = session_dir / "layers_plus_one"
    shutil.copytree(ROOT / "layers", layers, dirs_exist_ok=True)
    (layers / f"{NEW}.yaml").write_text(LAYER_FILE, encoding="utf-8")
    return {"SPP_LAYERS_DIR": str(layers), "SPP_DATA_DIR": str(session_dir / "plus_one")}


@pytest.fixture(scope="module")
def server(own_database, session_dir, env):
    data = session_dir / "plus_one_data"
    parcels = gpd.GeoDataFrame(
        {"commune_code": ["31135", "31135"], "sheet_no": [2, 2], "parcel_no": [49, 50],
         "address": ["12 Hai Bà Trưng", "14 Hai Bà Trưng"]},
        geometry=[shapely.box(X0, Y0, X0 + 0.0005, Y0 + 0.0005),
                  shapely.box(X0 + 0.0005, Y0, X0 + 0.001, Y0 + 0.0005)], crs="OGC:CRS84")
    toilets = gpd.GeoDataFrame(
        {"MaNVS": ["NVS-01", "NVS-02"], "name": ["Bến Ninh Kiều", "Chợ cổ"],
         "address": ["Đường Hai Bà Trưng", "Phố đi bộ Nguyễn Huệ"], "status": ["Tốt", "Hỏng"]},
        geometry=[shapely.Point(X0 + 0.0012, Y0 + 0.0002), shapely.Point(X0 + 0.01, Y0)],
        crs="OGC:CRS84")
    run_gis("load", str(write(parcels, data / "thua.geojson")), "--layer",
            "cadastral_parcels", env=env, check=True)
    run_gis("load", str(write(toilets, data / "nvs.geojson")), "--layer", NEW, env=env,
            check=True)
    with serve(own_database, session_dir / "plus_one_serve.log", **env) as root:
        yield root


@pytest.fixture(scope="module")
def web(server):
    with httpx.Client(base_url=server, timeout=60) as c:
        yield c


def test_collection_document_carries_what_the_map_needs(web):
    doc = web.get(f"/ogc/collections/{NEW}").json()
    # the panel's title falls back to the label field; the layer has no coded fields
    assert doc["spp:map"] == {"kind": "vector", "domain": "social", "visible": True, "base": None,
                              "label": "name", "planning": "nearest", "title": "name",
                              "codes": {}, "codelists": {}}
    assert any(lk["rel"].endswith("/style") for lk in doc["links"])
    listed = {c["id"]: c for c in web.get("/ogc/collections").json()["collections"]}
    assert listed[NEW]["spp:map"]["domain"] == "social"


def test_style_and_legend_come_from_the_file(web):
    style = web.get(f"/ogc/styles/{NEW}", params={"f": "mapbox"}).json()
    text = json.dumps(style)
    assert "#1ABC9C" in text and "#E74C3C" in text and "#7F8C8D" in text
    legend = web.get(f"/ogc/styles/{NEW}/legend").json()
    labels = [e["label"]["vi"] for e in legend["layers"][0]["entries"]]
    assert "Đang hoạt động" in labels and "Hư hỏng" in labels
    # the map label (glyphs from this server's /fonts) is in the file's legend
    spec = style["metadata"]["spp:legend"][NEW]
    assert {"kind": "label", "property": "name"}.items() <= next(
        e for e in spec if e["kind"] == "label").items()
    basemap = web.get("/ogc/styles/basemap", params={"f": "mapbox"}).json()
    assert any(lyr.get("source-layer") == NEW for lyr in basemap["layers"])
    assert web.get(f"/ogc/styles/{NEW}", params={"f": "sld"}).status_code == 200


def test_search_finds_it_by_its_search_fields(web, own_conn):
    hits = web.get("/api/search", params={"q": "pho di bo nguyen hue"}).json()["results"]
    assert [(h["layer"], h["kind"]) for h in hits] == [(NEW, "address")]
    indexes = [r["indexname"] for r in own_conn.execute(
        "SELECT indexname FROM pg_indexes WHERE schemaname = 'data' AND indexname LIKE %s",
        (f"{NEW}%_skey_%",))]
    assert indexes, "the load makes the search index"


def test_gis_layers_remakes_a_missing_search_index(server, own_conn, env):
    """A version loaded before its file declared search fields gets the index from the
    owner's `gis layers`, never from the web tier."""
    query = ("SELECT indexname FROM pg_indexes WHERE schemaname = 'data' "
             f"AND indexname LIKE '{NEW}%_skey_%'")
    name = own_conn.execute(query).fetchone()["indexname"]
    own_conn.execute(f'DROP INDEX data."{name}"')
    run_gis("layers", env=env, check=True)
    assert own_conn.execute(query).fetchone()["indexname"] == name


def test_planning_information_has_its_section(web, own_conn):
    fid = own_conn.execute("SELECT fid FROM data.cadastral_parcels WHERE parcel_no = 49"
                           ).fetchone()["fid"]
    doc = web.get(f"/api/parcels/{fid}/planning").json()
    section = next(s for s in doc["sections"] if s["layer"] == NEW)
    assert section["key"] == "public_toilet" and section["kind"] == "nearest"
    assert section["title"]["en"] == "Nearest public toilet"
    assert 30 < section["features"][0]["distance_m"] < 120


def test_web_map_tree_shows_it_under_its_domain(server):
    """services/web/app.js itself (run by node on a stub page) groups the API's layers."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (./spp setup installs it)")
    proc = subprocess.run([node, str(ROOT / "tests/web/tree.mjs"), server],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert proc.returncode == 0 and lines, proc.stdout + proc.stderr
    seen = json.loads(lines[-1])
    assert NEW in seen["groups"]["social"], seen
    assert "cadastral_parcels" in seen["groups"]["land"], seen
    assert NEW in seen["visible"] and "cadastral_parcels" in seen["visible"], seen


def test_the_web_map_and_services_name_no_layer():
    ids = sorted(p.stem for p in (ROOT / "layers").glob("*.yaml"))
    named = re.compile(r"\b(" + "|".join(ids) + r")\b")
    for path in [ROOT / "services/web/app.js", *(ROOT / "services/planning").glob("*.py"),
                 ROOT / "services/raster/zonal.py", ROOT / "gis/loader/plausibility.py",
                 ROOT / "gis/styles.py", ROOT / "styles/build.py"]:
        found = named.findall(path.read_text(encoding="utf-8"))
        assert not found, f"{path.relative_to(ROOT)} names layers {sorted(set(found))}"


def test_changed_search_fields_get_a_new_index(server, own_conn, env):
    """`gis layers` after `search.fields` changed: an index of the new key, the old one gone
    (a stale index would leave every search of the layer a sequential scan)."""
    query = ("SELECT indexname FROM pg_indexes WHERE schemaname = 'data' "
             f"AND indexname LIKE '{NEW}%_skey_%'")
    before = [r["indexname"] for r in own_conn.execute(query)]
    path = Path(env["SPP_LAYERS_DIR"]) / f"{NEW}.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("search: {fields: [address, name]}",
                                 "search: {fields: [name]}"), encoding="utf-8")
    try:
        run_gis("layers", env=env, check=True)
        after = [r["indexname"] for r in own_conn.execute(query)]
    finally:
        path.write_text(text, encoding="utf-8")
        run_gis("layers", env=env, check=True)
    assert len(before) == len(after) == 1 and before != after

