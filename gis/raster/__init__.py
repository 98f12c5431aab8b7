"""Raster layers: load a delivered grid as a versioned Cloud-Optimised GeoTIFF in WGS 84
(gis.raster.load), the version files (gis.raster.files; versions: gis.versions) and the exact
warp (gis.raster.warp)."""
