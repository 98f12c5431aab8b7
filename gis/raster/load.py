"""`gis load-raster`: a delivered grid (GeoTIFF, ASCII grid, JPEG2000... whatever the GDAL
bundled with rasterio reads) in VN-2000 (any zone) or WGS 84 → a Cloud-Optimised GeoTIFF in
WGS 84 under ``$SPP_DATA_DIR/rasters/<id>/v<N>.tif``, as a new version of the layer.

- VN-2000 is warped through EPSG:6960 exactly (explicit pipeline, see gis.raster.warp);
- nodata is carried over (the layer's ``nodata``, else the source's), RGB gets an alpha band;
- the COG has 512×512 internal tiles, DEFLATE compression and overviews down to one tile;
- atomic: the warp and the COG are written in a temporary folder next to the store and renamed
  into place complete; the catalog switches to the new version in one transaction afterwards.
  A killed load leaves no current state changed (its row is marked failed by the next load);
- lineage in ``spp.layer_versions``: source SHA-256 and size, CRS, operation and pipeline,
  grid sizes and resolutions, resampling, overviews, COG check, output SHA-256.
"""

from __future__ import annotations

import getpass
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from psycopg.types.json import Jsonb
from rasterio.enums import Resampling
from rasterio.errors import RasterioError, RasterioIOError
from rasterio.warp import reproject

from gis import db
from gis.catalog import sync_layer
from gis.crs import CANTHO_EXTENT, CRSError, to_wgs84
from gis.errors import SPPError
from gis.layerdef import RasterLayerDef, get_layer_def
from gis.loader import store
from gis.loader.source import sha256_of
from gis.raster import store as rstore
from gis.raster.warp import gdal_pipeline, target_grid
from gis.settings import get_settings

BLOCK = 512
MARGIN_M = 20_000  # a grid may reach this far beyond the city (model domains, DEM tiles)


class RasterLoadError(SPPError):
    exit_code = 2


@dataclass
class RasterLoadResult:
    layer_id: str
    version: int | None
    status: str  # current | unchanged
    source_name: str
    source_sha256: str
    path: Path | str | None = None  # a file, or /vsis3/... with an object store
    operation: str | None = None
    pipeline: str | None = None
    source_crs: str | None = None
    raster: dict = field(default_factory=dict)
    bbox: list[float] | None = None
    seconds: float = 0.0
    message: str | None = None


def _raster_layer(layer_id: str) -> RasterLayerDef:
    layer = get_layer_def(layer_id)
    if not isinstance(layer, RasterLayerDef):
        raise RasterLoadError(f"layer {layer_id!r} is a {layer.kind} layer; load "
                              f"it with `gis load SOURCE --layer {layer_id}`. Raster layers "
                              "have `kind: raster` in their definition.")
    return layer


def _open(path: Path):
    if not path.exists():
        raise RasterLoadError(f"{path} does not exist")
    try:
        return rasterio.open(path)
    except RasterioIOError as exc:
        raise RasterLoadError(
            f"{path} cannot be read as a raster ({exc}). Give a GeoTIFF, an ASCII grid (.asc "
            "with its .prj) or a JPEG2000 file; a truncated or corrupt file is refused.") from exc


def _operation(src, path: Path, layer: RasterLayerDef, source_crs: str | None):
    if src.transform.is_identity and not src.gcps[0]:
        raise RasterLoadError(f"{path} has no georeferencing (no geotransform): it cannot be "
                              "placed on the map. Export it with its world file or as a "
                              "GeoTIFF.")
    if source_crs:
        given, origin = source_crs, "--source-crs"
    elif src.crs is not None:
        given, origin = src.crs.to_wkt(), "file"
    else:
        hint = layer.source.crs or "vn2000-cantho"
        raise RasterLoadError(
            f"{path} has no CRS (no .prj / GeoTIFF keys). Name it with --source-crs, e.g. "
            f"--source-crs {hint} (this layer's usual CRS); guessing between VN-2000 zones is "
            "how data lands tens of kilometres off.")
    try:
        op = to_wgs84(given)
    except CRSError as exc:
        raise RasterLoadError(f"{path}: source CRS ({origin}): {exc}") from exc
    return op, origin


def _check_bands(src, path: Path, layer: RasterLayerDef) -> int:
    if layer.bands == 1:
        if src.count != 1:
            raise RasterLoadError(f"{path} has {src.count} bands; layer {layer.id!r} holds one "
                                  "band of values. Deliver one band a file.")
        return 1
    if src.count not in (3, 4):
        raise RasterLoadError(f"{path} has {src.count} band(s); layer {layer.id!r} is RGB "
                              "imagery (3 bands, or 4 with alpha).")
    return 3


def _check_readable(src, path: Path) -> None:
    """Read every block once: GDAL's warper logs a read error and carries on with a hole, so a
    truncated file must be caught before the warp (bounded memory: one block row at a time)."""
    try:
        for _, window in src.block_windows(1):
            src.read(window=window)
    except RasterioError as exc:
        raise RasterLoadError(f"{path} is truncated or corrupt: reading its cells failed ({exc})."
                              " Nothing was changed.") from exc


def _check_location(grid, path: Path, op) -> None:
    w, s, e, n = grid.bounds
    lon = np.array([w, e, (w + e) / 2])
    lat = np.array([s, n, (s + n) / 2])
    inside = CANTHO_EXTENT.contains(lon, lat, MARGIN_M)
    if not inside[2]:
        raise RasterLoadError(
            f"{path} lands at {(w + e) / 2:.4f} E, {(s + n) / 2:.4f} N with "
            f"{op.source.label}, outside {CANTHO_EXTENT}. Wrong --source-crs (zone 105°00' vs "
            "105°30', UTM 48N vs TM-3) or a grid that is not in Cần Thơ.")


def load_raster(source: Path | str, layer_id: str, source_crs: str | None = None,
                force: bool = False, operator: str | None = None) -> RasterLoadResult:
    started = time.monotonic()
    path = Path(source)
    layer = _raster_layer(layer_id)
    operator = operator or get_settings().operator or getpass.getuser()
    with _open(path) as src:
        bands = _check_bands(src, path, layer)
        _check_readable(src, path)
        op, origin = _operation(src, path, layer, source_crs)
        files = [Path(f) for f in (src.files or [path])]
        sha, size = sha256_of(sorted(set(files)))
        grid = target_grid(op, src.transform, src.width, src.height)
        _check_location(grid, path, op)
        pipe = gdal_pipeline(op)
        crs_info = {**op.describe(), "origin": origin}
        result = RasterLoadResult(layer.id, None, "loading", path.name, sha,
                                  operation=crs_info["operation"], pipeline=pipe or op.pipeline,
                                  source_crs=crs_info["source_crs"])
        conn = db.ready_connection()
        try:
            store.lock_layer(conn, layer.id)
            with conn.transaction():
                store.mark_interrupted(conn, layer.id)
                sync_layer(conn, layer)
                current = store.current_version(conn, layer.id)
            if current and current["source_sha256"] == sha and not force:
                result.status, result.version = "unchanged", current["version"]
                result.path = rstore.absolute(current["raster_path"])
                result.message = (f"{path.name} is identical (SHA-256) to the source of the "
                                  f"current version v{current['version']}: nothing to do. Use "
                                  "--force to load it again.")
                return result
            with conn.transaction():
                version = store.next_version(conn, layer.id)
                store.insert_version(conn, layer.id, version, {
                    "mode": "replace",
                    "parent_version": current["version"] if current else None,
                    "source_name": path.name, "source_sha256": sha, "source_bytes": size,
                    "source_format": src.driver, "source_crs": crs_info["source_crs"],
                    "crs_case": crs_info["datum_case"], "operation": crs_info["operation"],
                    "pipeline": crs_info["pipeline"], "operator": operator})
            result.version = version
            try:
                final, info = _write_version(src, layer, version, grid, op, pipe, bands)
                info.update(source_size=[src.width, src.height],
                            source_res=[abs(src.res[0]), abs(src.res[1])],
                            source_nodata=src.nodata, source_dtype=src.dtypes[0],
                            source_files=[f.name for f in files], crs_origin=origin,
                            gdal_coordinate_operation=pipe)
                with conn.transaction():
                    store.update_version(conn, layer.id, version,
                                         raster_path=rstore.relative_path(layer.id, version),
                                         bbox=list(grid.bounds))
                    conn.execute("UPDATE spp.layer_versions SET raster = %s WHERE layer_id = %s"
                                 " AND version = %s", (Jsonb(info), layer.id, version))
                    rstore.make_current(conn, layer.id, version, list(grid.bounds), operator)
            except BaseException as exc:
                reason = ("interrupted by the user" if isinstance(exc, KeyboardInterrupt)
                          else str(exc))
                rstore.remove(rstore.relative_path(layer.id, version))
                with db.connect() as other:
                    store.update_version(other, layer.id, version, status="failed",
                                         message=reason[:2000], raster_path=None)
                    other.execute("UPDATE spp.layer_versions SET finished_at = now() WHERE "
                                  "layer_id = %s AND version = %s", (layer.id, version))
                if isinstance(exc, RasterioError):
                    raise RasterLoadError(f"{path}: reading or warping failed ({exc}); the "
                                          "file is probably truncated or corrupt. Nothing was "
                                          "changed.") from exc
                raise
            with conn.transaction():
                rstore.prune(conn, layer.id, get_settings().keep_versions)
        finally:
            conn.close()  # releases the advisory lock
    result.status, result.path, result.raster = "current", final, info
    result.bbox = list(grid.bounds)
    result.seconds = time.monotonic() - started
    return result


def _write_version(src, layer: RasterLayerDef, version: int, grid, op, pipe: str | None,
                   bands: int) -> tuple[Path | str, dict]:
    folder = rstore.rasters_root() / layer.id
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".v{version}-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
    tmp.mkdir()
    try:
        rgb = layer.bands > 1
        dtype = layer.stored_dtype
        if rgb:
            nodata = None
            out_count = 4  # RGB + alpha: cells outside the source are transparent
        else:
            nodata = layer.nodata if layer.nodata is not None else (
                src.nodata if src.nodata is not None else -9999.0)
            out_count = 1
        warped = tmp / "warped.tif"
        profile = dict(driver="GTiff", width=grid.width, height=grid.height, count=out_count,
                       dtype=dtype, crs="EPSG:4326", transform=grid.transform, nodata=nodata,
                       tiled=True, blockxsize=BLOCK, blockysize=BLOCK, compress="deflate",
                       BIGTIFF="IF_SAFER")
        extra = {"COORDINATE_OPERATION": pipe} if pipe else {}
        t0 = time.monotonic()
        with rasterio.Env(GDAL_NUM_THREADS="ALL_CPUS"), \
                rasterio.open(warped, "w", **profile) as dst:
            if rgb:
                dst.colorinterp = [rasterio.enums.ColorInterp.red,
                                   rasterio.enums.ColorInterp.green,
                                   rasterio.enums.ColorInterp.blue,
                                   rasterio.enums.ColorInterp.alpha]
            reproject(
                source=rasterio.band(src, list(range(1, bands + 1))),
                destination=rasterio.band(dst, list(range(1, bands + 1))),
                src_crs=op.source.crs.to_wkt(), src_nodata=src.nodata if not rgb else None,
                dst_nodata=nodata, resampling=Resampling[layer.resampling],
                num_threads=os.cpu_count() or 1, warp_mem_limit=256,
                dst_alpha=4 if rgb else 0, init_dest_nodata=True, **extra)
            if not rgb and layer.units is not None:
                dst.update_tags(1, units=layer.units)
            dst.update_tags(layer=layer.id, version=str(version))
        warp_s = time.monotonic() - t0
        cog = tmp / "cog.tif"
        with rasterio.Env(GDAL_NUM_THREADS="ALL_CPUS"):
            rasterio.shutil.copy(warped, cog, driver="COG", COMPRESS="DEFLATE", PREDICTOR="YES",
                                 BLOCKSIZE=str(BLOCK), BIGTIFF="IF_SAFER",
                                 OVERVIEW_RESAMPLING=layer.overview_resampling.upper(),
                                 NUM_THREADS="ALL_CPUS")
        from rio_cogeo.cogeo import cog_validate

        valid, errors, warnings = cog_validate(str(cog), quiet=True)
        if not valid:
            raise RasterLoadError(f"the Cloud-Optimised GeoTIFF failed validation: {errors}")
        with rasterio.open(cog) as out:
            overviews = out.overviews(1)
        out_sha, out_size = sha256_of([cog])
        final = rstore.publish(cog, rstore.relative_path(layer.id, version))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    info = {"width": grid.width, "height": grid.height, "bands": out_count, "dtype": dtype,
            "nodata": nodata, "res_deg": [grid.transform.a, -grid.transform.e],
            "bounds": list(grid.bounds), "crs": "EPSG:4326", "resampling": layer.resampling,
            "overview_resampling": layer.overview_resampling, "overviews": overviews,
            "blocksize": BLOCK, "compress": "deflate", "cog_valid": valid,
            "cog_warnings": warnings, "output_sha256": out_sha, "output_bytes": out_size,
            "warp_seconds": round(warp_s, 3), "gdal": rasterio.__gdal_version__}
    return final, info
