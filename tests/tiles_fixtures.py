"""Fixtures of the tile and style tests: the OGC test layers (parcels with personal fields,
hydrants, restricted water pipes) plus roads, and a real `gis serve` with the tile cache on."""

from __future__ import annotations

import geopandas as gpd
import httpx
import pytest
import shapely

from tests.builders import write
from tests.conftest import run_gis, serve

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
    data_dir = session_dir / "tiles_serve_data"
    with serve(database_url, session_dir / "tiles_serve.log", SPP_TILE_CACHE="1",
               SPP_DATA_DIR=str(data_dir),
               SPP_RATE_IP_PER_S="0") as root:  # hundreds of tiles from one address
        yield root + "/ogc", data_dir / "tiles"


@pytest.fixture(scope="session")
def tiles(tile_server):
    with httpx.Client(base_url=tile_server[0], timeout=60) as c:
        yield c
