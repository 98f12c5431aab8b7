"""Fixtures of the tile and style tests: the OGC test layers (parcels with personal fields,
hydrants, restricted water pipes) plus roads, and a real `gis serve` with the tile cache on."""

from __future__ import annotations

import os
import subprocess
import time

import geopandas as gpd
import httpx
import pytest
import shapely

from tests.builders import write
from tests.conftest import GIS, ROOT, run_gis
from tests.ogc_fixtures import _free_port

pytest_plugins = ["tests.ogc_fixtures"]

ROAD_CLASSES = ["Quốc lộ", "Đường khu vực", "Hẻm"]


def roads_frame(name_suffix: str = "") -> gpd.GeoDataFrame:
    """Three roads across the parcel grid of tests.builders (Ninh Kiều)."""
    lines = [shapely.LineString([(105.775, 10.031), (105.800, 10.031)]),
             shapely.LineString([(105.785, 10.025), (105.785, 10.045)]),
             shapely.LineString([(105.781, 10.035), (105.790, 10.040), (105.795, 10.036)])]
    return gpd.GeoDataFrame(
        {"MaDoan": ["D-1", "D-2", "D-3"], "TenDuong": [f"Đường 30/4{name_suffix}",
                                                        f"Mậu Thân{name_suffix}",
                                                        f"Hẻm 51{name_suffix}"],
         "CapDuong": ROAD_CLASSES}, geometry=lines, crs="OGC:CRS84")


def load_roads(folder, name_suffix: str = "") -> None:
    path = write(roads_frame(name_suffix), folder / f"duong{name_suffix or '0'}.geojson")
    run_gis("load", str(path), "--layer", "roads", "--force", check=True)


@pytest.fixture(scope="session")
def tiles_data(ogc_data, session_dir):
    folder = session_dir / "tiles_data"
    folder.mkdir(mode=0o755, exist_ok=True)
    load_roads(folder)
    return {**ogc_data, "folder": folder}


@pytest.fixture(scope="session")
def tile_server(tiles_data, database_url, session_dir):
    """(base URL .../ogc, tile cache folder) of a `gis serve` with SPP_TILE_CACHE=1."""
    port = _free_port()
    data_dir = session_dir / "tiles_serve_data"
    env = {**os.environ, "DATABASE_URL": database_url, "SPP_TILE_CACHE": "1",
           "SPP_DATA_DIR": str(data_dir),
           "SPP_RATE_IP_PER_S": "0"}  # hundreds of tiles from one address; not a rate test
    log_path = session_dir / "tiles_serve.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed at the end
    proc = subprocess.Popen([*GIS, "serve", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/ogc"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            log.close()
            raise AssertionError("gis serve exited: " + log_path.read_text())
        try:
            if httpx.get(base, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("gis serve did not answer within 60 s")
        time.sleep(0.2)
    yield base, data_dir / "tiles"
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def tiles(tile_server):
    with httpx.Client(base_url=tile_server[0], timeout=60) as c:
        yield c
