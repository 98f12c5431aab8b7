-- Which plan pages a bbox (services/ogc/query.py): per version, every `sfc_every`-th curve key
-- of its keyed features in key order (gis/sfc.py: estimate), so the server can tell, before
-- any query, whether a box holds few features (sorted by id from the GiST index) or many
-- (read along the curve). NULL: not sampled (older versions), always along the curve.
ALTER TABLE spp.layer_versions ADD COLUMN IF NOT EXISTS sfc_sample bigint[];
ALTER TABLE spp.layer_versions ADD COLUMN IF NOT EXISTS sfc_every integer;
GRANT SELECT (sfc_sample, sfc_every) ON spp.layer_versions TO spp_web;
