-- /ready (web role) checks that the database schema is current: which migrations ran.
GRANT SELECT ON spp.schema_migrations TO spp_web;
-- /metrics (web role): how long the load of each current version took.
GRANT SELECT (layer_id, version, started_at, finished_at) ON spp.layer_versions TO spp_web;
