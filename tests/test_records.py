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


__all__ = ["CATALOGUE_ID", "httpx", "serve"]
