-- Access control: API keys of departments and applications, indexes for `gis audit`, and the
-- read-only database role of the web services (spp_web).

CREATE TABLE spp.api_keys (
    id              serial PRIMARY KEY,
    name            text NOT NULL,
    prefix          text NOT NULL UNIQUE,          -- public part of the key, for lookup
    key_sha256      text NOT NULL,                 -- SHA-256 (hex) of the whole key
    department      text NOT NULL,
    role            text NOT NULL CHECK (role IN ('staff', 'admin')),
    personal_fields text[] NOT NULL DEFAULT '{}',  -- "layer.field" granted
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text,
    expires_at      timestamptz,
    revoked_at      timestamptz
);

CREATE INDEX audit_log_at ON spp.audit_log (at);
CREATE INDEX audit_log_actor_at ON spp.audit_log (actor, at);

-- The web services connect as spp_web: SELECT on the served data and the catalog, INSERT on
-- the audit log, nothing else. Roles are cluster-wide: created once, granted per database.
-- A migrating user without CREATEROLE gets a warning; the services then need
-- SPP_WEB_DATABASE_URL pointing at a role an administrator made with these grants.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spp_web') THEN
        BEGIN
            CREATE ROLE spp_web LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'cannot create role spp_web (needs CREATEROLE); create it and rerun '
                          'the grants of 0002_access.sql as an administrator';
            RETURN;
        END;
    END IF;
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO spp_web', current_database());
    GRANT USAGE ON SCHEMA data, spp TO spp_web;
    GRANT SELECT ON ALL TABLES IN SCHEMA data TO spp_web;
    -- version tables and views the loader creates later are readable too
    ALTER DEFAULT PRIVILEGES IN SCHEMA data GRANT SELECT ON TABLES TO spp_web;
    GRANT SELECT ON spp.layers TO spp_web;
    GRANT SELECT (id, name, prefix, key_sha256, department, role, personal_fields, expires_at,
                  revoked_at) ON spp.api_keys TO spp_web;
    GRANT INSERT ON spp.audit_log TO spp_web;
    GRANT USAGE ON SEQUENCE spp.audit_log_id_seq TO spp_web;
END
$$;
