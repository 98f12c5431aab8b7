-- Reports from citizens and businesses (POST /submissions): a moderation queue, never served
-- publicly. A report names a layer and one of the kinds its file allows (submissions: in
-- layers/<id>.yaml), a point in WGS 84, the fields the public filled and a message; its photo,
-- re-encoded without metadata, is kept apart. Staff approve (the report becomes a feature of
-- the layer, a new version with lineage submission:<id>) or reject it with a reason. The
-- client's address is not stored (personal data; rate limits work in memory).
CREATE TABLE spp.submissions (
    id             bigserial PRIMARY KEY,
    layer_id       text NOT NULL,
    kind           text NOT NULL,
    status         text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'approved', 'rejected')),
    geom           geometry(Point, 4326) NOT NULL,
    properties     jsonb NOT NULL DEFAULT '{}',
    message        text,
    lang           text,
    has_photo      boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    reviewed_at    timestamptz,
    reviewed_by    text,
    note           text,            -- staff's note on approval
    reason         text,            -- staff's reason for a rejection
    feature_id     text,            -- the feature made on approval
    layer_version  integer,         -- the layer version it was made in
    CHECK ((status = 'rejected') = (reason IS NOT NULL))
);
CREATE INDEX submissions_status_layer ON spp.submissions (status, layer_id, created_at);

CREATE TABLE spp.submission_photos (
    submission_id  bigint PRIMARY KEY REFERENCES spp.submissions (id) ON DELETE CASCADE,
    media_type     text NOT NULL CHECK (media_type IN ('image/jpeg', 'image/png',
                                                       'image/webp')),
    width          integer NOT NULL,
    height         integer NOT NULL,
    bytes          integer NOT NULL,
    sha256         text NOT NULL,
    content        bytea NOT NULL
);

-- The web role stores reports and lets staff review them (the routes check who asks).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spp_web') THEN
        GRANT SELECT, INSERT ON spp.submissions, spp.submission_photos TO spp_web;
        GRANT UPDATE (status, reviewed_at, reviewed_by, note, reason, feature_id,
                      layer_version) ON spp.submissions TO spp_web;
        GRANT USAGE ON SEQUENCE spp.submissions_id_seq TO spp_web;
    END IF;
END
$$;
