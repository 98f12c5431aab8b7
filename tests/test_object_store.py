"""Rasters and the tile cache in S3-compatible object storage (SPP_OBJECT_STORE), against an
S3 server the test starts itself (moto's), on loopback: raster versions are uploaded there by
`gis load-raster`, never written to the local data folder, and the server answers tiles, point
values and zonal statistics from them (GDAL /vsis3/) exactly as from local files."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import httpx
import morecantile
import pytest
import shapely

from gis.sample import rasters as sample
from tests.conftest import free_port, run_gis, serve

pytest_plugins = ["tests.raster_fixtures"]
BUCKET, PREFIX = "spp-city", "cantho"
TMS = morecantile.tms.get("WebMercatorQuad")
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "spp-test", "AWS_SECRET_ACCESS_KEY": "spp-test-secret",
               "AWS_REGION": "us-east-1"}


@pytest.fixture(scope="module")
def s3(session_dir):
    port = free_port()
    exe = Path(sys.executable).with_name("moto_server")
    log = open(session_dir / "moto.log", "wb")
    proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", str(port)], stdout=log,
                            stderr=subprocess.STDOUT, env={**os.environ, **CREDENTIALS})
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(endpoint, timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None, "moto did not start"
                time.sleep(0.2)
        import boto3

        client = boto3.client("s3", endpoint_url=endpoint, **{
            "aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            "region_name": "us-east-1"})
        client.create_bucket(Bucket=BUCKET)
        yield {"endpoint": endpoint, "client": client, "proc": proc}
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _keys(s3, prefix: str) -> list[str]:
    pages = s3["client"].get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return [o["Key"] for p in pages for o in p.get("Contents", [])]


@pytest.fixture(scope="module")
def s3_env(raster_data, s3, session_dir, own_database):
    """(raster_data first: the session database must get its local rasters before this module
    points DATABASE_URL at its own database.)"""
    local = session_dir / "s3-local-data"
    local.mkdir(mode=0o755)
    env = {**CREDENTIALS, "SPP_OBJECT_STORE": f"s3://{BUCKET}/{PREFIX}",
           "SPP_S3_ENDPOINT_URL": s3["endpoint"], "SPP_DATA_DIR": str(local)}
    flood = sample.write_flood(local / "ngap_100.tif", 100)
    for _ in range(2):  # two versions, for the rollback below
        run_gis("load-raster", str(flood), "--layer", "flood_depth_100y", "--force", env=env,
                check=True)
    return env


def test_versions_live_in_the_object_store_not_on_disk(s3, s3_env):
    keys = _keys(s3, f"{PREFIX}/rasters/flood_depth_100y/")
    assert keys == [f"{PREFIX}/rasters/flood_depth_100y/v{n}.tif" for n in (1, 2)]
    assert not list(Path(s3_env["SPP_DATA_DIR"]).rglob("v*.tif"))
    back = run_gis("raster", "rollback", "flood_depth_100y", "--to", "1", env=s3_env)
    assert back.returncode == 0, back.stderr
    s3["client"].delete_object(Bucket=BUCKET, Key=keys[1])  # v2's object lost
    lost = run_gis("raster", "rollback", "flood_depth_100y", "--to", "2", env=s3_env)
    assert lost.returncode != 0 and "missing" in lost.stderr


def test_answers_from_the_store_equal_answers_from_local_files(
        raster_data, database_url, own_database, s3, s3_env, session_dir):
    box = shapely.box(105.76, 9.99, 105.79, 10.02)
    t = TMS.tile(105.775, 10.005, 15)
    tile = f"/ogc/collections/flood_depth_100y/map/tiles/WebMercatorQuad/15/{t.y}/{t.x}?f=png"
    points = [(105.775, 10.005), (105.79, 10.03), (105.80, 9.99), (106.2, 9.6)]

    def answers(root: str) -> dict:
        out = {"values": []}
        for lon, lat in points:
            r = httpx.get(root + "/api/rasters/flood_depth_100y/value",
                          params={"lon": lon, "lat": lat})
            assert r.status_code == 200, r.text
            out["values"].append(r.json()["value"])
        zonal = httpx.post(root + "/api/rasters/flood_depth_100y/zonal",
                           json=shapely.geometry.mapping(box))
        assert zonal.status_code == 200, zonal.text
        out["zonal"] = {k: v for k, v in zonal.json().items() if k not in ("links", "version")}
        png = httpx.get(root + tile)
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        out["tile"] = png.content
        return out

    with serve(database_url, session_dir / "local_raster.log", SPP_RATE_IP_PER_S="0") as root:
        local = answers(root)
    with serve(own_database, session_dir / "s3_raster.log", SPP_RATE_IP_PER_S="0",
               **s3_env) as root:
        remote = answers(root)
    assert any(v is not None for v in local["values"])
    assert remote == local


def test_tile_cache_in_the_object_store(s3, s3_env, own_database, session_dir):
    hydrants = gpd.GeoDataFrame(
        {"MaTru": ["TN-1", "TN-2"], "LoaiTru": ["trụ nổi", "trụ âm"], "DuongKinh": [100, 125]},
        geometry=[shapely.Point(105.78, 10.03), shapely.Point(105.781, 10.031)],
        crs="OGC:CRS84")
    source = Path(s3_env["SPP_DATA_DIR"]) / "tru_nuoc.geojson"
    hydrants.to_file(source, driver="GeoJSON")
    run_gis("load", str(source), "--layer", "fire_hydrants", env=s3_env, check=True)
    tile = TMS.tile(105.78, 10.03, 14)
    path = f"/ogc/collections/fire_hydrants/tiles/WebMercatorQuad/14/{tile.y}/{tile.x}"
    with serve(own_database, session_dir / "s3_tiles.log", SPP_TILE_CACHE="1",
               SPP_RATE_IP_PER_S="0", **s3_env) as root:
        first = httpx.get(root + path)
        deadline = time.monotonic() + 10  # the cache is written in the background
        while not _keys(s3, f"{PREFIX}/tiles/") and time.monotonic() < deadline:
            time.sleep(0.1)
        second = httpx.get(root + path)
        metrics = httpx.get(root + "/metrics").text
    assert first.status_code == second.status_code == 200 and first.content == second.content
    cached = _keys(s3, f"{PREFIX}/tiles/")
    assert len(cached) == 1 and cached[0].endswith(f"/14/{tile.x}/{tile.y}.mvt")
    obj = s3["client"].get_object(Bucket=BUCKET, Key=cached[0])["Body"].read()
    assert obj == first.content or gzip.decompress(first.content) == obj
    assert 'spp_tile_cache_total{result="hit"} 1.0' in metrics
    assert 'spp_tile_cache_total{result="miss"} 1.0' in metrics
    assert not (Path(s3_env["SPP_DATA_DIR"]) / "tiles").exists()


def test_tiles_answer_when_the_object_store_is_away(s3, s3_env, own_database, session_dir):
    """Runs last: the S3 server is stopped. A tile cache that cannot be reached costs one short
    attempt, then is skipped; the tiles are rendered and served all the same."""
    s3["proc"].terminate()
    s3["proc"].wait(timeout=10)
    tile = TMS.tile(105.78, 10.03, 15)
    path = f"/ogc/collections/fire_hydrants/tiles/WebMercatorQuad/15/{tile.y}/{tile.x}"
    with serve(own_database, session_dir / "s3_away.log", SPP_TILE_CACHE="1",
               SPP_RATE_IP_PER_S="0", **s3_env) as root:
        took = []
        for _ in range(5):
            t0 = time.monotonic()
            r = httpx.get(root + path, timeout=30)
            took.append(time.monotonic() - t0)
            assert r.status_code == 200 and r.content
    assert took[0] < 5 and max(took[1:]) < 1, took

