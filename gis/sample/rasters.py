"""Sample rasters: modelled flood depth (10- and 100-year return periods) over Ninh Kiều and
Cái Răng as GeoTIFFs in VN-2000 / TM-3 105°00' (EPSG:5897, 5 m cells), and a coarse DEM as an
ASCII grid in VN-2000 / UTM 48N (EPSG:3405, 50 m cells). Deterministic, synthetic.

One ground surface is shared by all three: low back-swamp ground and a dip along the rivers
(Sông Hậu, Sông Cần Thơ, two canals), a raised urban core in Ninh Kiều, smooth undulations.
Flood depth = max(0, water level − ground); river and canal cells are nodata (open water is not
"flooded land"). Heights are metres above the Hòn Dấu datum.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.transform import from_origin

from gis.crs import from_wgs84, to_wgs84
from gis.sample.manifest import Load
from gis.sample.readme import Entry

NODATA = -9999.0
# flood grid, TM-3 105°00' (EPSG:5897): 7 km × 7 km at 5 m
FLOOD_WEST, FLOOD_NORTH, FLOOD_RES, FLOOD_SIZE = 581_500.0, 1_110_000.0, 5.0, 1400
# DEM, UTM 48N (EPSG:3405): 20 km × 17 km at 50 m
DEM_WEST, DEM_NORTH, DEM_RES, DEM_W, DEM_H = 575_000.0, 1_114_700.0, 50.0, 400, 340
WATER_LEVEL = {100: 1.75, 10: 1.45}  # m above Hòn Dấu at the peak, 1 % and 10 % floods
# rivers and canals in TM-3 105°00' (E, N) with their half widths (m)
RIVERS = [
    ("Sông Hậu", [(589_500, 1_101_000), (588_300, 1_104_500), (587_600, 1_108_000),
                  (587_300, 1_111_000)], 650.0),
    ("Sông Cần Thơ", [(580_000, 1_103_800), (582_000, 1_104_600), (583_300, 1_106_000),
                      (584_600, 1_106_700), (585_900, 1_107_900), (587_000, 1_108_700)], 110.0),
    ("Rạch Cái Khế", [(583_000, 1_110_500), (584_300, 1_109_400), (585_600, 1_108_900)], 18.0),
    ("Kênh Cái Răng", [(582_500, 1_101_500), (584_000, 1_103_200), (585_200, 1_105_100)], 14.0),
]
URBAN_CORE = (585_300.0, 1_109_000.0, 1_300.0)  # centre E, N and radius of the raised fill
# orthophoto, TM-3 105°00' (EPSG:5897): central Ninh Kiều, 2.8 km × 2.8 km at 2 m
ORTHO_WEST, ORTHO_NORTH, ORTHO_RES, ORTHO_SIZE = 583_900.0, 1_110_400.0, 2.0, 1400


def _distance_to_rivers(e: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance (m) of each point to the nearest river bank (negative inside the water)."""
    best = np.full(e.shape, np.inf)
    for _, line, half in RIVERS:
        pts = np.asarray(line, dtype=np.float64)
        d_line = np.full(e.shape, np.inf)
        for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:], strict=True):
            dx, dy = x1 - x0, y1 - y0
            t = np.clip(((e - x0) * dx + (n - y0) * dy) / (dx * dx + dy * dy), 0, 1)
            d_line = np.minimum(d_line, np.hypot(e - (x0 + t * dx), n - (y0 + t * dy)))
        best = np.minimum(best, d_line - half)
    return best, best < 0


def ground(e: np.ndarray, n: np.ndarray, seed: int = 20250701) -> tuple[np.ndarray, np.ndarray]:
    """Ground height (m, Hòn Dấu) at TM-3 105°00' points, and the open-water mask."""
    rng = np.random.default_rng([seed, 80])
    d, water = _distance_to_rivers(e, n)
    z = 1.25 - 0.55 * np.exp(-np.maximum(d, 0) / 350.0)  # low along the banks
    for _ in range(6):  # smooth undulations, wavelengths 0.8-4 km
        k = 2 * np.pi / rng.uniform(800, 4000)
        a = rng.uniform(0, 2 * np.pi)
        z += rng.uniform(0.05, 0.18) * np.sin(k * (e * np.cos(a) + n * np.sin(a))
                                              + rng.uniform(0, 2 * np.pi))
    cx, cy, r = URBAN_CORE
    z += 0.8 * np.exp(-((e - cx) ** 2 + (n - cy) ** 2) / (2 * (r / 2) ** 2))
    z = np.where(water, -2.5 + 1.5 * np.exp(d / 80.0), z)  # river bed in the water
    return np.round(z, 2), water


def flood_depth(return_period: int, seed: int = 20250701) -> np.ndarray:
    cols, rows = np.meshgrid(np.arange(FLOOD_SIZE) + 0.5, np.arange(FLOOD_SIZE) + 0.5)
    e = FLOOD_WEST + cols * FLOOD_RES
    n = FLOOD_NORTH - rows * FLOOD_RES
    z, water = ground(e, n, seed)
    depth = np.round(np.maximum(WATER_LEVEL[return_period] - z, 0.0), 2)
    return np.where(water, NODATA, depth).astype("float32")


def write_flood(path: Path, return_period: int, seed: int = 20250701) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = flood_depth(return_period, seed)
    with rasterio.open(path, "w", driver="GTiff", width=FLOOD_SIZE, height=FLOOD_SIZE, count=1,
                       dtype="float32", crs="EPSG:5897", nodata=NODATA,
                       transform=from_origin(FLOOD_WEST, FLOOD_NORTH, FLOOD_RES, FLOOD_RES),
                       tiled=True, blockxsize=256, blockysize=256, compress="deflate",
                       predictor=3) as dst:
        dst.write(data, 1)
        dst.update_tags(CHU_KY=str(return_period), DON_VI="m", MO_HINH="MIKE FLOOD (mẫu)")
    return path


def write_dem(path: Path, seed: int = 20250701) -> Path:
    """The DEM as an ESRI ASCII grid with its .prj (UTM 48N), as survey offices deliver it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cols, rows = np.meshgrid(np.arange(DEM_W) + 0.5, np.arange(DEM_H) + 0.5)
    eu = DEM_WEST + cols * DEM_RES
    nu = DEM_NORTH - rows * DEM_RES
    lon, lat = to_wgs84("vn2000-utm48").transform(eu.ravel(), nu.ravel())
    e, n = from_wgs84("vn2000-cantho").transform(lon, lat)
    z, _ = ground(e.reshape(eu.shape), n.reshape(nu.shape), seed)
    tmp = path.with_suffix(".tmp.tif")
    with rasterio.open(tmp, "w", driver="GTiff", width=DEM_W, height=DEM_H, count=1,
                       dtype="float32", crs="EPSG:3405", nodata=NODATA,
                       transform=from_origin(DEM_WEST, DEM_NORTH, DEM_RES, DEM_RES)) as dst:
        dst.write(z.astype("float32"), 1)
    try:
        rasterio.shutil.copy(tmp, path, driver="AAIGrid", DECIMAL_PRECISION="2")
    finally:
        tmp.unlink(missing_ok=True)
        path.with_suffix(".tmp.tif.aux.xml").unlink(missing_ok=True)
    for extra in path.parent.glob(path.name + ".aux.xml"):
        extra.unlink()
    return path


def orthophoto(seed: int = 20250701) -> np.ndarray:
    """A synthetic true-colour image (3, rows, cols) uint8: silty brown rivers, green
    gardens and rice fields, roofs (grey, red tile) in city blocks thinning out from the core."""
    rng = np.random.default_rng([seed, 81])
    cols, rows = np.meshgrid(np.arange(ORTHO_SIZE) + 0.5, np.arange(ORTHO_SIZE) + 0.5)
    e, n = ORTHO_WEST + cols * ORTHO_RES, ORTHO_NORTH - rows * ORTHO_RES
    _, water = ground(e, n, seed)
    cx, cy, r = URBAN_CORE
    urban = np.exp(-((e - cx) ** 2 + (n - cy) ** 2) / (2 * (r / 1.6) ** 2))  # 1 at the core
    lot_i, lot_j = (rows * ORTHO_RES // 20).astype(int), (cols * ORTHO_RES // 20).astype(int)
    lots = rng.random((2, lot_i.max() + 1, lot_j.max() + 1))  # 20 m lots: built? roof?
    built = lots[0][lot_i, lot_j] < 0.85 * urban
    street = ((np.abs(e % 160 - 80) < 5) | (np.abs(n % 160 - 80) < 5)) & (urban > 0.15)
    noise = rng.normal(0, 9, e.shape)
    img = np.empty((3, *e.shape), dtype=np.float64)
    for band, (land, roof, road, river) in enumerate(zip(
            (78, 116, 58), (168, 92, 70), (150, 148, 142), (146, 124, 88), strict=True)):
        roof_c = np.where(lots[1][lot_i, lot_j] < 0.5, roof, 160)  # red tile or grey sheet
        img[band] = np.where(water, river, np.where(street, road,
                                                     np.where(built, roof_c, land)))
    return np.clip(img + noise, 0, 255).astype("uint8")


def write_orthophoto(path: Path, seed: int = 20250701) -> Path:
    """The orthophoto as JPEG 2000 in TM-3 105°00', as the surveying division delivers it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.tif")
    with rasterio.open(tmp, "w", driver="GTiff", width=ORTHO_SIZE, height=ORTHO_SIZE, count=3,
                       dtype="uint8", crs="EPSG:5897", photometric="RGB",
                       transform=from_origin(ORTHO_WEST, ORTHO_NORTH, ORTHO_RES,
                                             ORTHO_RES)) as dst:
        dst.write(orthophoto(seed))
    try:
        rasterio.shutil.copy(tmp, path, driver="JP2OpenJPEG", QUALITY="40", REVERSIBLE="NO")
    finally:
        tmp.unlink(missing_ok=True)
    for extra in path.parent.glob(path.name + ".aux.xml"):
        extra.unlink()
    return path


def write_rasters(outdir: Path, out: dict[str, Path], seed: int = 20250701) -> list[Entry]:
    """Write the sample rasters (flood depth, DEM, orthophoto) under ``outdir``; add
    them to ``out``; return their README entries."""
    entries = []
    for rp in (100, 10):
        rel = f"ngap_lut/do_sau_ngap_{rp}nam.tif"
        out[f"ngap_{rp}nam"] = write_flood(outdir / rel, rp, seed)
        entries.append(Entry(
            rel, f"modelled flood depth, {rp}-year return period (Ninh Kiều, Cái Răng)",
            "GeoTIFF, 1 band float32, 5 m cells, nodata -9999 (rivers and canals), tiled",
            "VN-2000 / TM-3 105°00' (EPSG:5897), in the GeoTIFF keys", "-",
            "cell value = water depth above ground (m)", f"{FLOOD_SIZE} × {FLOOD_SIZE} cells",
            (Load(rel, f"flood_depth_{rp}y", raster=True),),
            f"water level {WATER_LEVEL[rp]} m (Hòn Dấu) minus the sample ground surface"))
    rel = "dia_hinh/dem_50m.asc"
    out["dem"] = write_dem(outdir / rel, seed)
    entries.append(Entry(
        f"{rel} (+ .prj)", "coarse digital elevation model (ground height, Hòn Dấu datum)",
        "ESRI ASCII grid (AAIGrid), 50 m cells, nodata -9999",
        "VN-2000 / UTM zone 48N (EPSG:3405), ESRI .prj", "ASCII",
        "cell value = ground height (m)", f"{DEM_W} × {DEM_H} cells",
        (Load(rel, "elevation_dem", raster=True),),
        "same ground surface as the flood grids"))
    rel = "anh_truc_giao/ninh_kieu_2m.jp2"
    out["anh_truc_giao"] = write_orthophoto(outdir / rel, seed)
    entries.append(Entry(
        rel, "true-colour orthophoto of central Ninh Kiều, SYNTHETIC (drawn, not photographed)",
        "JPEG 2000, 3 bands uint8 (RGB), 2 m cells, lossy",
        "VN-2000 / TM-3 105°00' (EPSG:5897), in the JP2 GeoJP2/GMLJP2 box", "-",
        "cell value = red, green, blue", f"{ORTHO_SIZE} × {ORTHO_SIZE} cells",
        (Load(rel, "orthophoto", raster=True),),
        "rivers, blocks and roofs drawn from the same ground surface as the flood grids"))
    return entries
