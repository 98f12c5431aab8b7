"""Raster layers: OGC API - Tiles map tiles, coverage subsets, point values and zonal
statistics (see services.raster.api); ``flood_summary`` in services.raster.zonal."""

from services.raster.api import router

__all__ = ["router"]
