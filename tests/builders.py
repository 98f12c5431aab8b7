"""Small, real delivery files for loader tests, built the way departments' tools write them."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from gis.crs import from_wgs84, transform_geometries

NINH_KIEU = (105.780, 10.030)


def parcel_boxes(n: int, origin=NINH_KIEU, size_deg=(0.0003, 0.0002), cols: int = 50):
    """n rectangular parcels in a grid (WGS 84), ~33 m x 22 m, 1 m gaps."""
    i = np.arange(n)
    x0 = origin[0] + (i % cols) * (size_deg[0] + 0.00001)
    y0 = origin[1] + (i // cols) * (size_deg[1] + 0.00001)
    return shapely.box(x0, y0, x0 + size_deg[0], y0 + size_deg[1])


def parcel_frame(n: int, crs: str = "vn2000-cantho", epsg: int | None = 5897, start_sheet=1,
                 geoms=None, **extra_columns) -> gpd.GeoDataFrame:
    wgs = parcel_boxes(n) if geoms is None else np.asarray(geoms, dtype=object)
    planar = transform_geometries(wgs, from_wgs84(crs)) if crs != "EPSG:4326" else wgs
    i = np.arange(n)
    data = {
        "MaXa": ["31135"] * n,
        "SoTo": start_sheet + i // 100,
        "SoThua": 1 + i % 100,
        "DienTich": np.round(shapely.area(planar), 1),
        "MucDich": np.array(["ODT", "LUC", "CLN", "TMD", "DGT"])[i % 5],
        "TenChu": np.array(["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"])[i % 3],
        "GhiChu": [f"ghi chú {k}" for k in i],
        **extra_columns,
    }
    return gpd.GeoDataFrame(data, geometry=list(planar), crs=epsg)


def write(gdf: gpd.GeoDataFrame, path: Path, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    gdf.to_file(path, **kwargs)
    return path


# A MapInfo CoordSys as Vietnamese MapInfo users wrote it before VN-2000 was in their
# projection list: Transverse Mercator 105°, k = 1, on datum 2 ("Afgooye", the Krassovsky
# ellipsoid of the old HN-72 system), while the coordinates are VN-2000 TM-3 105°00'.
AFGOOYE_TM105 = 'CoordSys Earth Projection 8, 2, "m", 105, 0, 1, 500000, 0'


def mapinfo_crs(folder: Path, coordsys: str = AFGOOYE_TM105) -> str:
    """The CRS GDAL reads from a MapInfo CoordSys clause (a one-point MIF written here)."""
    import pyogrio

    mif = folder / "coordsys.mif"
    mif.write_text(f'Version 300\nCharset "Neutral"\nDelimiter ","\n{coordsys}\n'
                   "Columns 1\n  ID Integer\nData\n\nPoint 585000 1109000\n", encoding="ascii")
    (folder / "coordsys.mid").write_text("1\n", encoding="ascii")
    return pyogrio.read_info(str(mif))["crs"]


def write_mapinfo(gdf: gpd.GeoDataFrame, path: Path, encoders: dict, charset: str,
                  coordsys: str = AFGOOYE_TM105) -> Path:
    """A MapInfo TAB written by GDAL's MapInfo driver, its text columns stored as the bytes
    `encoders[column]` makes (cp1258, TCVN3...), its header declaring `charset` and its
    coordinates (VN-2000 TM-3 105°00' in `gdf`) declared with `coordsys`."""
    import pyogrio

    path.parent.mkdir(parents=True, exist_ok=True)
    out = gdf.copy()
    for col, encode in encoders.items():
        out[col] = [None if v is None else encode(v).decode("latin1") for v in out[col]]
    out = out.set_crs(mapinfo_crs(path.parent, coordsys), allow_override=True)
    pyogrio.write_dataframe(out, path, driver="MapInfo File", encoding="latin1")
    tab = path.read_text(encoding="latin1")
    tab = tab.replace("!charset Neutral", f"!charset {charset}").replace(
        'Charset "Neutral"', f'Charset "{charset}"')
    path.write_text(tab, encoding="latin1")
    return path
