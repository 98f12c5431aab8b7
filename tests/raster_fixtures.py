"""Shared fixtures of the raster tests: the sample flood grids (TM-3 105°00' GeoTIFF), the
DEM (UTM 48N ASCII grid) and a small orthophoto (RGB, restricted layer), loaded with the real
`gis load-raster`; helpers to read the current COG of a layer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from gis.sample import rasters as sample
from tests.conftest import run_gis

ORTHO_WEST, ORTHO_NORTH, ORTHO_RES, ORTHO_SIZE = 585_000.0, 1_109_600.0, 0.5, 600


def write_ortho(path: Path) -> Path:
    """A 300 m × 300 m RGB 'orthophoto' (0.5 m cells) in TM-3 105°00'."""
    c, r = np.meshgrid(np.arange(ORTHO_SIZE), np.arange(ORTHO_SIZE))
    rgb = np.stack([(c * 255 // ORTHO_SIZE), (r * 255 // ORTHO_SIZE),
                    ((c + r) % 256)]).astype("uint8")
    with rasterio.open(path, "w", driver="GTiff", width=ORTHO_SIZE, height=ORTHO_SIZE, count=3,
                       dtype="uint8", crs="EPSG:5897", photometric="RGB",
                       transform=from_origin(ORTHO_WEST, ORTHO_NORTH, ORTHO_RES, ORTHO_RES)) as d:
        d.write(rgb)
    return path


@pytest.fixture(scope="session")
def raster_data(database_url, session_dir):
    folder = session_dir / "raster_data"
    folder.mkdir(mode=0o755, exist_ok=True)
    files = {
        "flood_depth_100y": sample.write_flood(folder / "ngap_100.tif", 100),
        "flood_depth_10y": sample.write_flood(folder / "ngap_10.tif", 10),
        "elevation_dem": sample.write_dem(folder / "dem.asc"),
        "orthophoto": write_ortho(folder / "ortho.tif"),
    }
    for layer, path in files.items():
        run_gis("load-raster", str(path), "--layer", layer, "--force", check=True)
    return files


def current_cog(conn, layer_id: str, data_dir: Path) -> Path:
    row = conn.execute(
        "SELECT v.raster_path FROM spp.layers l JOIN spp.layer_versions v ON v.layer_id = l.id "
        "AND v.version = l.current_version WHERE l.id = %s", (layer_id,)).fetchone()
    return data_dir / row["raster_path"]
