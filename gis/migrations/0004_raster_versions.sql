-- Raster layers (kind: raster in layers/) are versioned in the same tables as vector layers:
-- a raster version is a Cloud-Optimised GeoTIFF file $SPP_DATA_DIR/rasters/<id>/v<N>.tif
-- instead of a data."<id>__v<N>" table. raster_path is that file relative to the data folder
-- (NULL once pruned, like table_name); raster holds the grid's lineage (size, resolution,
-- nodata, data type, resampling, overviews, COG check, output SHA-256).
ALTER TABLE spp.layer_versions ADD COLUMN IF NOT EXISTS raster_path text;
ALTER TABLE spp.layer_versions ADD COLUMN IF NOT EXISTS raster jsonb;
