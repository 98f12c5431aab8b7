-- Edits through OGC API - Features Part 4 (gis/edits.py): an edit is a layer version of
-- mode 'edit'. Its table_name is a view: the full table it builds on (base_table) plus a
-- small table of the features edited since that table was made (naming.overlay_table).
-- edits: its lineage, {created, updated, deleted: [fid...], source, ...}.
ALTER TABLE spp.layer_versions DROP CONSTRAINT IF EXISTS layer_versions_mode_check;
ALTER TABLE spp.layer_versions ADD CONSTRAINT layer_versions_mode_check
    CHECK (mode IN ('replace', 'append', 'upsert', 'edit'));
ALTER TABLE spp.layer_versions ADD COLUMN base_table text;
ALTER TABLE spp.layer_versions ADD COLUMN edits jsonb;
