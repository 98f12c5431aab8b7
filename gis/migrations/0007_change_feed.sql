-- The change feed and its webhooks (gis/changefeed.py, gis/hooks/).
--
-- A change set is one published layer version's changes (a load, an edit transaction, a
-- rollback); feature_changes lists the feature ids it created, updated and deleted. Its id is
-- the feed's cursor: writers of one layer take a per-layer transaction lock before taking ids,
-- so within a layer ids commit in order and a reader paging by id misses nothing.
CREATE TABLE spp.change_sets (
    id          bigserial PRIMARY KEY,
    layer_id    text NOT NULL REFERENCES spp.layers (id),
    version     integer NOT NULL,
    action      text NOT NULL CHECK (action ~ '^[a-z][a-z_]*$'),  -- load, edit, rollback...
    operator    text,
    at          timestamptz NOT NULL DEFAULT now(),
    created     bigint NOT NULL DEFAULT 0,
    updated     bigint NOT NULL DEFAULT 0,
    deleted     bigint NOT NULL DEFAULT 0
);
CREATE INDEX change_sets_layer_version ON spp.change_sets (layer_id, version, id);

CREATE TABLE spp.feature_changes (
    id          bigserial PRIMARY KEY,
    set_id      bigint NOT NULL REFERENCES spp.change_sets (id) ON DELETE CASCADE,
    layer_id    text NOT NULL,
    change      text NOT NULL CHECK (change IN ('created', 'updated', 'deleted')),
    fid         bigint NOT NULL
);
CREATE INDEX feature_changes_layer_id ON spp.feature_changes (layer_id, id);
CREATE INDEX feature_changes_set ON spp.feature_changes (set_id, id);

-- Subscribers (`gis hooks add`). The secret keys the HMAC-SHA256 signature, so it is kept as
-- given (a digest could not sign).
CREATE TABLE spp.webhooks (
    id              serial PRIMARY KEY,
    url             text NOT NULL CHECK (url ~* '^https?://'),
    layer_id        text NOT NULL REFERENCES spp.layers (id),
    secret          text NOT NULL,
    with_operator   boolean NOT NULL DEFAULT false,  -- payloads name who made the change
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text,
    removed_at      timestamptz
);
CREATE INDEX webhooks_layer ON spp.webhooks (layer_id) WHERE removed_at IS NULL;

-- The durable outbox: one row per change set and subscribed hook, written in the transaction
-- of the change. 'delivered' only after a 2xx; 'failed' once the attempts are used up;
-- 'cancelled' when the hook is removed.
CREATE TABLE spp.webhook_outbox (
    id              bigserial PRIMARY KEY,
    hook_id         integer NOT NULL REFERENCES spp.webhooks (id),
    set_id          bigint NOT NULL REFERENCES spp.change_sets (id) ON DELETE CASCADE,
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    last_status     integer,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
CREATE INDEX webhook_outbox_pending ON spp.webhook_outbox (hook_id, id) WHERE status = 'pending';
CREATE INDEX webhook_outbox_due ON spp.webhook_outbox (next_attempt_at) WHERE status = 'pending';

-- The web role reads the feed, records the changes of edits made through the API, and runs
-- the delivery worker inside `gis serve` (reads hooks, updates the outbox).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spp_web') THEN
        RAISE WARNING 'role spp_web missing: rerun the grants of 0007_change_feed.sql once made';
        RETURN;
    END IF;
    GRANT SELECT, INSERT ON spp.change_sets, spp.feature_changes TO spp_web;
    GRANT USAGE ON SEQUENCE spp.change_sets_id_seq, spp.feature_changes_id_seq TO spp_web;
    GRANT SELECT ON spp.webhooks TO spp_web;
    GRANT SELECT, INSERT, UPDATE ON spp.webhook_outbox TO spp_web;
    GRANT USAGE ON SEQUENCE spp.webhook_outbox_id_seq TO spp_web;
END
$$;
