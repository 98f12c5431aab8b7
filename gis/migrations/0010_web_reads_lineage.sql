-- Catalogue metadata (OGC API - Records, DCAT-AP, ISO 19139, dataset pages; web role): how
-- the current version of a layer was loaded. Not the file name, the operator, the rejected
-- rows' reasons or the load message: they may name people or hold delivered values.
GRANT SELECT (layer_id, version, status, mode, source_format, source_crs, crs_case, operation,
              pipeline, axis_order, count_read, count_loaded, count_repaired, count_rejected,
              count_empty, feature_count, started_at, finished_at)
    ON spp.layer_versions TO spp_web;
