-- Layer catalog, load versions (lineage) and the audit log.
CREATE SCHEMA IF NOT EXISTS data;

CREATE TABLE spp.layers (
    id              text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_]*$'),
    title_vi        text NOT NULL,
    title_en        text NOT NULL,
    description_vi  text,
    description_en  text,
    domain          text NOT NULL CHECK (domain IN ('land', 'planning', 'utility', 'address',
                                        'boundary', 'transport', 'environment', 'social')),
    owner_vi        text NOT NULL,
    owner_en        text NOT NULL,
    licence         text,
    access_level    text NOT NULL CHECK (access_level IN ('public', 'internal', 'restricted')),
    departments     text[] NOT NULL DEFAULT '{}',
    keywords        text[] NOT NULL DEFAULT '{}',
    geometry_type   text NOT NULL,
    definition      jsonb NOT NULL,
    definition_sha  text NOT NULL,
    bbox            double precision[],          -- minx, miny, maxx, maxy in WGS 84
    feature_count   bigint,
    current_version integer,
    updated_at      timestamptz
);

CREATE TABLE spp.layer_versions (
    layer_id        text NOT NULL REFERENCES spp.layers (id),
    version         integer NOT NULL,
    status          text NOT NULL CHECK (status IN ('loading', 'current', 'superseded',
                                        'failed', 'dry_run', 'rolled_back')),
    table_name      text,                        -- data."<id>__v<N>"; NULL once dropped
    mode            text NOT NULL CHECK (mode IN ('replace', 'append', 'upsert')),
    parent_version  integer,
    source_name     text,
    source_sha256   text,
    source_bytes    bigint,
    source_format   text,
    source_layer    text,
    source_crs      text,
    crs_case        text,                        -- e.g. official / towgs84_unflipped_signs
    operation       text,                        -- e.g. EPSG:6960
    pipeline        text,                        -- exact PROJ pipeline applied
    axis_order      text,
    encodings       jsonb,
    count_read      bigint,
    count_loaded    bigint,
    count_repaired  bigint,
    count_rejected  bigint,
    count_empty     bigint,
    rejects         jsonb,
    feature_count   bigint,
    bbox            double precision[],
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    operator        text,
    message         text,
    PRIMARY KEY (layer_id, version)
);

CREATE TABLE spp.audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    role        text,
    action      text NOT NULL,
    layer_id    text,
    fields      text[],
    detail      jsonb,
    client_addr text
);
CREATE INDEX audit_log_layer_at ON spp.audit_log (layer_id, at);
