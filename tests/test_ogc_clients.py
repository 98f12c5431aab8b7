"""Real clients: GDAL's OAPIF driver (ogrinfo, ogr2ogr through the next links) and OWSLib."""

from __future__ import annotations

import shutil
import subprocess

import pyogrio
import pytest

pytest_plugins = ["tests.ogc_fixtures"]

pytestmark = pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="GDAL CLI missing")


def test_ogrinfo_lists_every_visible_collection(ogc_server, conn):
    out = subprocess.run(["ogrinfo", "-ro", "-q", f"OAPIF:{ogc_server}"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    listed = {line.split(":", 1)[1].strip().split(" ")[0]
              for line in out.stdout.splitlines() if line.strip()[:1].isdigit()}
    public = {r["id"] for r in conn.execute(  # feature collections: rasters are not listed
        "SELECT id FROM spp.layers WHERE current_version IS NOT NULL AND "
        "access_level = 'public' AND coalesce(definition->>'kind', 'vector') = 'vector'")}
    # the catalogue of datasets (OGC API - Records) is a collection too: its records are
    # GeoJSON features (extent polygons), which GDAL reads like any layer
    assert listed == public | {"catalog"}
    assert "water_pipes" not in out.stdout
    out = subprocess.run(["ogrinfo", "-ro", "-al", "-so", f"OAPIF:{ogc_server}", "catalog"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "ERROR" not in out.stderr, out.stderr
    datasets = conn.execute("SELECT count(*) AS n FROM spp.layers WHERE current_version IS "
                            "NOT NULL AND access_level = 'public'").fetchone()["n"]
    assert f"Feature Count: {datasets}" in out.stdout and "Polygon" in out.stdout, out.stdout


def test_ogr2ogr_downloads_the_whole_layer(ogc_server, conn, session_dir):
    target = session_dir / "oapif_parcels.gpkg"
    out = subprocess.run(["ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{ogc_server}",
                          "cadastral_parcels", "-oo", "PAGE_SIZE=1000"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    got = pyogrio.read_dataframe(target)
    rows = conn.execute("SELECT fid, sheet_no, parcel_no, ward_name, legal_area, "
                        "valid_from::text AS valid_from FROM data.cadastral_parcels "
                        "ORDER BY fid").fetchall()
    assert len(got) == len(rows) == 2500
    got = got.sort_values(["sheet_no", "parcel_no"]).reset_index(drop=True)
    rows.sort(key=lambda r: (r["sheet_no"], r["parcel_no"]))
    assert list(got["ward_name"]) == [r["ward_name"] for r in rows]
    assert list(got["legal_area"]) == pytest.approx([r["legal_area"] for r in rows])
    assert [str(v)[:10] for v in got["valid_from"]] == [r["valid_from"] for r in rows]
    assert "owner_name" not in got.columns and "owner_id_no" not in got.columns


def test_owslib_reads_collections_items_queryables(ogc_server):
    from owslib.ogcapi.features import Features

    api = Features(ogc_server)
    ids = {c["id"] for c in api.collections()["collections"]}
    assert "cadastral_parcels" in ids and "water_pipes" not in ids
    assert api.collection("cadastral_parcels")["itemType"] == "feature"
    page = api.collection_items("cadastral_parcels", limit=5, ward_name="An Hòa")
    assert page["numberReturned"] == 5
    assert all(f["properties"]["ward_name"] == "An Hòa" for f in page["features"])
    q = api.collection_queryables("cadastral_parcels")
    assert "parcel_no" in q["properties"] and "owner_id_no" not in q["properties"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in \
        api.conformance()["conformsTo"]
