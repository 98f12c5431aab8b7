"""Catalogue metadata (issue 19): ``services.metadata.dataset_metadata`` over real loads, and
the OGC API - Records catalogue (/ogc/collections/catalog) of a real `gis serve`, read with
httpx and OWSLib's Records client. Own database: the layers and loads are this module's."""

from __future__ import annotations

import asyncio
from datetime import datetime

import geopandas as gpd
import httpx
import numpy as np
import pandas as pd
import psycopg
import pytest
import shapely
from psycopg.rows import dict_row

from gis.layerdef import CATALOGUE_ID, get_layer_def
from gis.sample import rasters as sample
from tests.builders import parcel_frame, write
from tests.conftest import run_gis, serve, web_role_url

N_PARCELS = 150  # one more row, a duplicate key, is rejected


def _load(*args: str) -> None:
    run_gis(*args, "--force", check=True)


@pytest.fixture(scope="module")
def data(own_database, open_tmp_module):
    folder = open_tmp_module
    i = np.arange(N_PARCELS)
    parcels = parcel_frame(N_PARCELS, TuNgay=[f"{2010 + k % 6}-0{1 + k % 9}-15" for k in i])
    parcels = pd.concat([parcels, parcels.iloc[[0]]], ignore_index=True)  # duplicate key
    _load("load", str(write(gpd.GeoDataFrame(parcels, crs=5897), folder / "thua.shp")),
          "--layer", "cadastral_parcels")
    hydrants = gpd.GeoDataFrame(
        {"MaTru": ["TN-1", "TN-2"], "NgayKiemTra": ["2024-03-01", "2024-09-30"]},
        geometry=[shapely.Point(105.78, 10.03), shapely.Point(105.79, 10.04)], crs="OGC:CRS84")
    _load("load", str(write(hydrants, folder / "tru.geojson")), "--layer", "fire_hydrants")
    pipes = gpd.GeoDataFrame({"MaOng": ["ONG-1"]}, crs="OGC:CRS84",
                             geometry=[shapely.LineString([(105.78, 10.03), (105.79, 10.04)])])
    _load("load", str(write(pipes, folder / "ong.geojson")), "--layer", "water_pipes")
    cables = gpd.GeoDataFrame({"MaTuyen": ["VT-1"]}, crs="OGC:CRS84",
                              geometry=[shapely.LineString([(105.77, 10.02), (105.78, 10.03)])])
    _load("load", str(write(cables, folder / "cap.geojson")), "--layer", "telecom_lines")
    _load("load-raster", str(sample.write_flood(folder / "ngap10.tif", 10)), "--layer",
          "flood_depth_10y")
    return own_database


@pytest.fixture(scope="module")
def open_tmp_module(session_dir, request):
    path = session_dir / f"records_{request.module.__name__.rsplit('.', 1)[-1]}"
    path.mkdir(mode=0o755, exist_ok=True)
    return path


def _catalog_entries(database_url: str) -> dict:
    """The service catalog as the web role reads it (services.catalog.Catalog)."""
    from services.catalog import Catalog

    async def read():
        async with await psycopg.AsyncConnection.connect(
                web_role_url(database_url), row_factory=dict_row) as conn:
            return await Catalog().entries(conn)

    return asyncio.run(read())


# -- dataset_metadata -------------------------------------------------------------------------
def test_dataset_metadata_joins_definition_and_load_facts(data):
    from services.access import PUBLIC, Principal
    from services.metadata import dataset_metadata

    entries = _catalog_entries(data)
    md = dataset_metadata(entries["cadastral_parcels"])
    layer = get_layer_def("cadastral_parcels")
    # from the definition
    assert md.title == layer.title and md.description == layer.description
    assert md.topic == "planningCadastre" and md.update_frequency == layer.metadata.update_frequency
    assert md.contact.email == layer.metadata.contact.email
    assert md.lineage_statement.vi.startswith("Số hóa từ bản đồ địa chính")
    assert md.licence == "CC-BY-4.0" and md.licence_url.endswith("CC-BY-4.0.html") and md.is_open
    # from the loads: the delivery was a VN-2000 shapefile with one duplicate key
    assert md.feature_count == N_PARCELS and md.version == 1 and md.kind == "vector"
    assert md.load.count_read == N_PARCELS + 1 and md.load.count_rejected == 1
    assert md.rejected_share == pytest.approx(1 / (N_PARCELS + 1))
    assert md.load.operation and "6960" in md.load.operation, md.load
    assert md.load.source_crs and "5897" in md.load.source_crs, md.load
    assert md.load.source_format == "ESRI Shapefile" and md.load.mode == "replace"
    lon0, lat0, lon1, lat1 = md.bbox
    assert 105.77 < lon0 < lon1 < 105.80 and 10.02 < lat0 < lat1 < 10.05
    assert md.temporal == ("2010-01-15", "2015-09-15")
    assert isinstance(md.updated, datetime) and md.created == md.load.finished_at
    # the data dictionary: personal fields only for those allowed them
    public = [f.name for f in md.fields]
    assert "parcel_no" in public and "owner_name" not in public and "owner_id_no" not in public
    clerk = Principal(role="staff", departments=frozenset({"snnmt"}),
                      personal_fields=frozenset({"cadastral_parcels.owner_name"}))
    staff = [f.name for f in dataset_metadata(entries["cadastral_parcels"], clerk).fields]
    assert "owner_name" in staff and "owner_id_no" not in staff
    assert dataset_metadata(entries["cadastral_parcels"], PUBLIC).fields == md.fields


def test_dataset_metadata_of_a_raster_and_a_restricted_layer(data):
    from services.metadata import dataset_metadata

    entries = _catalog_entries(data)
    flood = dataset_metadata(entries["flood_depth_10y"])
    assert flood.kind == "raster" and flood.geometry_type == "Raster"
    assert flood.topic == "inlandWaters" and flood.feature_count is None and flood.fields == []
    assert flood.load.operation and "6960" in flood.load.operation
    assert flood.bbox and 105 < flood.bbox[0] < 106
    pipes = dataset_metadata(entries["water_pipes"])
    assert pipes.access_level == "restricted" and not pipes.is_open and pipes.licence_url is None


def test_a_stored_definition_from_an_older_release_is_left_out(data):
    """Definitions stored before `metadata` was required do not fail the catalog: the layer
    is left out (and logged) until `gis layers` stores the current definition."""
    with psycopg.connect(data, autocommit=True) as conn:
        conn.execute("UPDATE spp.layers SET definition = definition - 'metadata', "
                     "definition_sha = 'old' WHERE id = 'telecom_lines'")
    try:
        entries = _catalog_entries(data)
        assert "telecom_lines" not in entries and "cadastral_parcels" in entries
    finally:
        run_gis("layers", check=True)
    assert "telecom_lines" in _catalog_entries(data)



# -- OGC API - Records ------------------------------------------------------------------------
RECORDS = f"/collections/{CATALOGUE_ID}/items"


@pytest.fixture(scope="module")
def keys(data):
    def make(name: str, department: str) -> str:
        out = run_gis("keys", "create", "--name", name, "--department", department, check=True)
        return out.stdout.strip().splitlines()[-1]

    return {"wasuco": make("Cấp nước", "cantho_wasuco"), "other": make("Sở Tài chính", "stc")}


@pytest.fixture(scope="module")
def server(data, keys, session_dir):
    with serve(data, session_dir / "records_serve.log") as root:
        yield root + "/ogc"


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server, timeout=60) as c:
        yield c


def _ids(client, key: str | None = None, **params) -> list[str]:
    headers = {"X-API-Key": key} if key else {}
    r = client.get(RECORDS, params={"limit": 100, **params}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    doc = r.json()
    assert doc["numberReturned"] == len(doc["features"]) <= doc["numberMatched"]
    return [f["id"] for f in doc["features"]]


PUBLIC = ["cadastral_parcels", "fire_hydrants", "flood_depth_10y"]


def test_one_record_per_dataset_the_caller_may_see(client, keys):
    assert _ids(client) == PUBLIC  # sorted by id; no restricted or internal layer
    assert _ids(client, keys["other"]) == sorted(PUBLIC + ["telecom_lines"])  # internal: staff
    assert _ids(client, keys["wasuco"]) == sorted(PUBLIC + ["telecom_lines", "water_pipes"])
    for key in (None, keys["other"]):
        headers = {"X-API-Key": key} if key else {}
        r = client.get(f"{RECORDS}/water_pipes", headers=headers)
        assert r.status_code == 404 and "water_pipes" not in client.get(
            RECORDS, params={"q": "ống cấp nước"}, headers=headers).text
    r = client.get(f"{RECORDS}/water_pipes", headers={"X-API-Key": keys["wasuco"]})
    assert r.status_code == 200 and r.json()["properties"]["spp:access"] == "restricted"
    assert "private" in r.headers["cache-control"]


def test_a_record_carries_the_definition_and_the_load_facts(client):
    r = client.get(f"{RECORDS}/cadastral_parcels")
    assert r.status_code == 200 and "public" in r.headers["cache-control"]
    rec = r.json()
    layer = get_layer_def("cadastral_parcels")
    p = rec["properties"]
    assert rec["type"] == "Feature" and rec["id"] == "cadastral_parcels"
    assert rec["conformsTo"] == ["http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/"
                                 "record-core"]
    assert p["type"] == "dataset" and p["title"] == "Thửa đất địa chính"
    assert p["titles"]["en"] == "Cadastral parcels" and p["description"] == layer.description.vi
    assert p["keywords"] == layer.keywords and p["license"] == "CC-BY-4.0"
    assert p["themes"][0]["concepts"] == [{"id": "planningCadastre"}]
    contact = p["contacts"][0]
    assert contact["emails"] == [{"value": layer.metadata.contact.email}]
    assert contact["name"] == layer.metadata.contact.name.vi and "pointOfContact" in \
        contact["roles"]
    assert p["spp:lineage"]["en"] == layer.metadata.lineage.en
    q = p["spp:quality"]
    assert q["featureCount"] == N_PARCELS and q["rejected"] == 1 and q["read"] == N_PARCELS + 1
    assert "6960" in q["crsOperation"] and q["version"] == 1
    assert p["created"].endswith("Z") and p["updated"].endswith("Z")
    assert rec["time"] == {"interval": ["2010-01-15", "2015-09-15"]}
    ring = rec["geometry"]["coordinates"][0]
    assert rec["geometry"]["type"] == "Polygon" and ring[0] == ring[-1] and len(ring) == 5
    links = {(link["rel"], link["href"].split("/ogc", 1)[-1]) for link in rec["links"]}
    assert ("license", "https://spdx.org/licenses/CC-BY-4.0.html") in links
    for rel, path in [("collection", "/collections/cadastral_parcels"),
                      ("items", "/collections/cadastral_parcels/items"),
                      ("http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                       "/collections/cadastral_parcels/tiles"),
                      ("http://www.opengis.net/def/rel/ogc/1.0/style",
                       "/styles/cadastral_parcels?f=mapbox"),
                      ("enclosure", "/collections/cadastral_parcels/items?f=gpkg"),
                      ("enclosure", "/collections/cadastral_parcels/items?f=csv"),
                      ("describedby", "/collections/cadastral_parcels/metadata.xml")]:
        assert (rel, path) in links, (rel, path)
    flood = client.get(f"{RECORDS}/flood_depth_10y").json()
    assert flood["properties"]["themes"][0]["concepts"] == [{"id": "inlandWaters"}]
    assert any(link["href"].endswith("/coverage?f=tif") for link in flood["links"])
    for link in rec["links"] + flood["links"]:  # every API link of the records answers (the
        if link["rel"] in ("describedby", "license"):  # metadata and licence documents are
            continue  # served by the DCAT/ISO module and SPDX)
        r = client.get(link["href"])
        assert r.status_code == 200, link
        assert r.headers["content-type"].split(";")[0] in link["type"], (link, r.headers)


@pytest.mark.parametrize("q, expected", [
    ("thửa đất", ["cadastral_parcels"]),
    ("thua dat", ["cadastral_parcels"]),  # without diacritics
    ("THỬA ĐẤT", ["cadastral_parcels"]),  # case
    ("Trụ nước chữa cháy", ["fire_hydrants"]),
    ("tru nuoc chua chay", ["fire_hydrants"]),
    ("ngập,trụ nước", ["fire_hydrants", "flood_depth_10y"]),  # comma: either
    ("cadastre", ["cadastral_parcels"]),  # an English keyword
    ("đất thửa", []),  # white space: the words in this order
    ("không có bộ dữ liệu này", []),
])
def test_q_searches_vietnamese_with_or_without_diacritics(client, q, expected):
    assert _ids(client, q=q) == expected


def test_bbox_datetime_type_keywords_and_ids(client):
    assert _ids(client, bbox="105.775,10.025,105.785,10.035") == [
        "cadastral_parcels", "fire_hydrants", "flood_depth_10y"]
    assert "fire_hydrants" in _ids(client, bbox="105.789,10.039,105.8,10.05")
    assert "cadastral_parcels" not in _ids(client, bbox="105.789,10.039,105.8,10.05")
    assert _ids(client, bbox="106.5,9.0,106.6,9.1") == []
    # datetime: the records whose time (their data's time field) meets it
    assert _ids(client, datetime="2024-06-01") == ["fire_hydrants"]
    assert _ids(client, datetime="2012-01-01/2012-12-31") == ["cadastral_parcels"]
    assert _ids(client, datetime="../2009-12-31") == []
    assert _ids(client, datetime="2015-09-15T12:00:00Z/..") == [
        "cadastral_parcels", "fire_hydrants"]
    assert _ids(client, type="dataset") == PUBLIC and _ids(client, type="service") == []
    assert _ids(client, keywords="cadastre") == ["cadastral_parcels"]
    assert _ids(client, keywords="PCCC,độ sâu ngập") == ["fire_hydrants", "flood_depth_10y"]
    assert _ids(client, keywords="pccc") == ["fire_hydrants"]  # case and accents
    assert _ids(client, ids="fire_hydrants,water_pipes") == ["fire_hydrants"]
    assert _ids(client, q="ngap,thua", bbox="105.775,10.025,105.785,10.035",
                datetime="2014-01-01") == ["cadastral_parcels"]  # every criterion


def test_paging_follows_the_links(client):
    seen, url, pages = [], f"{RECORDS}?limit=2", 0
    while url:
        doc = client.get(url).json()
        assert doc["numberMatched"] == 3 and doc["numberReturned"] <= 2
        seen += [f["id"] for f in doc["features"]]
        nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        url = nxt[0] if nxt else None
        pages += 1
    assert seen == PUBLIC and pages == 2
    last = client.get(RECORDS, params={"limit": 2, "offset": 2}).json()
    prev = [link["href"] for link in last["links"] if link["rel"] == "prev"]
    assert [f["id"] for f in client.get(prev[0]).json()["features"]] == PUBLIC[:2]
    by_title = ["flood_depth_10y", "cadastral_parcels", "fire_hydrants"]  # Độ, Thửa, Trụ
    assert _ids(client, sortby="title") == by_title
    assert _ids(client, sortby="-title") == by_title[::-1]


@pytest.mark.parametrize("params, words", [
    ({"bbox": "1,2,3"}, ["bbox", "4 numbers"]),
    ({"bbox": "a,b,c,d"}, ["bbox", "number"]),
    ({"bbox": "0,0,nan,1"}, ["NaN"]),
    ({"datetime": "yesterday"}, ["datetime"]),
    ({"datetime": "2020-01-01/2019-01-01"}, ["start is after the end"]),
    ({"datetime": "../.."}, ["at least one end"]),
    ({"q": "," * 50}, ["at most 20"]),
    ({"q": "x" * 150}, ["at most 100 characters"]),
    ({"q": " , "}, ["non-empty"]),
    ({"keywords": ",".join(["k"] * 25)}, ["at most 20"]),
    ({"limit": "0"}, ["limit"]),
    ({"limit": "1001"}, ["limit"]),
    ({"limit": "ten"}, ["not an integer"]),
    ({"offset": "-1"}, ["offset"]),
    ({"sortby": "owner"}, ["not sortable"]),
    ({"f": "xml"}, ["f="]),
    ({"filter": "id = 'x'"}, ["unknown parameter"]),
    ({"q": "a\x00b"}, ["NUL"]),
])
def test_hostile_parameters_are_a_clear_400(client, params, words):
    r = client.get(RECORDS, params=params)
    assert r.status_code == 400, (params, r.status_code, r.text[:300])
    for word in words:
        assert word in r.text, (params, word, r.text[:300])


def test_catalogue_is_a_collection_listed_from_the_landing_page_and_conformance(client):
    cat = client.get(f"/collections/{CATALOGUE_ID}").json()
    assert cat["itemType"] == "record" and cat["type"] == "Catalog"
    assert any(link["rel"] == "items" and link["href"].endswith(RECORDS)
               for link in cat["links"])
    assert {"/catalog.jsonld", "/catalog.ttl"} <= {
        "/" + link["href"].rsplit("/", 1)[1] for link in cat["links"]}
    listed = client.get("/collections").json()["collections"]
    assert [c["id"] for c in listed if c.get("itemType") == "record"] == [CATALOGUE_ID]
    landing = client.get("").json()
    assert any(link["href"].endswith(f"/collections/{CATALOGUE_ID}") for link in
               landing["links"] if link["rel"].endswith("ogc-catalog-searchable"))
    conf = client.get("/conformance").json()["conformsTo"]
    for c in ("core", "record-core", "record-collection", "record-core-query-parameters",
              "json", "html"):
        assert f"http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/{c}" in conf
    api = client.get("/openapi").json()
    items = api["paths"][f"/ogc/collections/{CATALOGUE_ID}/items"]["get"]
    params = {p["name"]: p["schema"] for p in items["parameters"]}
    assert {"q", "bbox", "datetime", "type", "keywords", "limit", "f"} <= set(params)
    assert params["limit"]["type"] == "integer" and params["limit"]["maximum"] == 1000
    assert f"/ogc/collections/{CATALOGUE_ID}/items/{{recordId}}" in api["paths"]


def test_html_pages_render(client, keys):
    r = client.get(RECORDS, params={"q": "thua dat", "f": "html"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "Thửa đất địa chính" in r.text and "Cadastral parcels" in r.text
    assert "Trụ nước" not in r.text and "water_pipes" not in r.text
    r = client.get(f"{RECORDS}/cadastral_parcels", headers={"Accept": "text/html"})
    assert r.status_code == 200 and "Văn phòng Đăng ký đất đai" in r.text
    assert "EPSG:6960" in r.text or "6960" in r.text
    assert "snnmt@cantho.gov.vn" in r.text
    r = client.get(f"/collections/{CATALOGUE_ID}", params={"f": "html"})
    assert r.status_code == 200 and "Danh mục dữ liệu" in r.text
    r = client.get("/collections", params={"f": "html"})
    assert r.status_code == 200 and CATALOGUE_ID in r.text
    page2 = client.get(RECORDS, params={"limit": 1, "offset": 1, "f": "html"}).text
    assert "offset=2" in page2 and "Tiếp / next" in page2
    staff = client.get(RECORDS, params={"f": "html"}, headers={"X-API-Key": keys["wasuco"]})
    assert "Đường ống cấp nước" in staff.text
    hostile = client.get(RECORDS, params={"q": '"><script>alert(1)</script>', "f": "html"})
    assert hostile.status_code == 200 and "<script>alert" not in hostile.text
    assert "&lt;script&gt;" in hostile.text or "&#34;&gt;&lt;script" in hostile.text


def test_queryables_say_what_records_are_searched_by(client):
    r = client.get(f"/collections/{CATALOGUE_ID}/queryables")
    assert r.status_code == 200 and r.headers["content-type"] == "application/schema+json"
    props = r.json()["properties"]
    assert props["type"]["enum"] == ["dataset"] and props["keywords"]["type"] == "array"
    assert props["geometry"]["x-ogc-role"] == "primary-geometry"
    assert client.get(f"/collections/{CATALOGUE_ID}/queryables",
                      params={"f": "html"}).status_code == 200


def test_owslib_records_client_reads_the_catalogue(server):
    from owslib.ogcapi.records import Records

    w = Records(server)
    assert w.records() == [CATALOGUE_ID]
    found = w.collection_items(CATALOGUE_ID, q="thua dat")
    assert [f["id"] for f in found["features"]] == ["cadastral_parcels"]
    one = w.collection_item(CATALOGUE_ID, "fire_hydrants")
    assert one["properties"]["title"] == "Trụ nước chữa cháy"
    assert w.collection(CATALOGUE_ID)["itemType"] == "record"


def test_reserved_catalogue_id_cannot_be_a_layer(tmp_path):
    from gis.layerdef import LayerDefinitionError, parse_layer_file
    from tests.test_layerdefs import GOOD

    path = tmp_path / f"{CATALOGUE_ID}.yaml"
    path.write_text(GOOD.format(id=CATALOGUE_ID), encoding="utf-8")
    with pytest.raises(LayerDefinitionError, match=f"{path}:2: id: .*reserved"):
        parse_layer_file(path)
