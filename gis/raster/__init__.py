"""Raster layers: load a delivered grid as a versioned Cloud-Optimised GeoTIFF in WGS 84
(gis.raster.load), the version store (gis.raster.store) and the exact warp (gis.raster.warp)."""
