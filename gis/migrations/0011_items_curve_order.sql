-- Paging under a bbox along a space-filling curve (gis/sfc.py): per version, the largest
-- half-extent (degrees) of a feature keyed on the curve (column _sfc of its table); NULL when
-- the version's table has no keys (made before this migration). The web role widens a bbox
-- query by it.
ALTER TABLE spp.layer_versions ADD COLUMN IF NOT EXISTS sfc_pad double precision;
GRANT SELECT (sfc_pad) ON spp.layer_versions TO spp_web;
