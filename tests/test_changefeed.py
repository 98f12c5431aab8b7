"""The change feed's records (gis/changefeed.py) on a real PostGIS: a change set and its
outbox rows commit with the caller's transaction or not at all."""

from __future__ import annotations

import pytest

from gis import changefeed
from gis.catalog import sync_layer
from gis.layerdef import get_layer_def

LAYER = "fire_hydrants"


@pytest.fixture
def layer(own_conn):
    sync_layer(own_conn, get_layer_def(LAYER))
    own_conn.execute("UPDATE spp.webhooks SET removed_at = now() WHERE removed_at IS NULL")
    return LAYER


def test_record_writes_changes_and_outbox_in_the_callers_transaction(own_conn, layer):
    hook = own_conn.execute("INSERT INTO spp.webhooks (url, layer_id, secret) VALUES "
                            "('http://127.0.0.1:9/h', %s, 's') RETURNING id",
                            (layer,)).fetchone()["id"]
    with pytest.raises(RuntimeError), own_conn.transaction():
        changefeed.record(own_conn, layer, 7, "alice", created=[1], deleted=[2])
        raise RuntimeError("the edit failed after recording")
    assert own_conn.execute("SELECT count(*) AS n FROM spp.webhook_outbox WHERE hook_id = %s",
                            (hook,)).fetchone()["n"] == 0
    with own_conn.transaction():
        set_id = changefeed.record(own_conn, layer, 8, "alice", created=[11, 12],
                                   updated=[5], deleted=[3])
    rows = own_conn.execute("SELECT change, fid FROM spp.feature_changes WHERE set_id = %s "
                            "ORDER BY id", (set_id,)).fetchall()
    assert [(r["change"], r["fid"]) for r in rows] == [
        ("created", 11), ("created", 12), ("updated", 5), ("deleted", 3)]
    s = own_conn.execute("SELECT * FROM spp.change_sets WHERE id = %s", (set_id,)).fetchone()
    assert (s["version"], s["operator"], s["action"], s["created"], s["updated"],
            s["deleted"]) == (8, "alice", "edit", 2, 1, 1)
    out = own_conn.execute("SELECT * FROM spp.webhook_outbox WHERE hook_id = %s",
                           (hook,)).fetchall()
    assert len(out) == 1 and out[0]["status"] == "pending"
    body = out[0]["payload"]
    assert (body["collection"], body["version"], body["created"], body["updated"],
            body["deleted"], body["complete"]) == (layer, 8, [11, 12], [5], [3], True)
    assert "operator" not in body  # only hooks added --with-operator are told who


def test_record_refuses_ids_that_are_not_integers(own_conn, layer):
    with pytest.raises(TypeError), own_conn.transaction():
        changefeed.record(own_conn, layer, 9, "bob", created=[1.5])


def test_a_300k_feature_first_load_is_one_statement(own_conn, layer):
    """Size: the change set of a 300 000-feature first load (and of a re-delivery changing
    a tenth of them) is written by one INSERT ... SELECT each, in seconds."""
    import time

    conn = own_conn
    for t in ("fire_hydrants__v90001", "fire_hydrants__v90002"):
        conn.execute(f'DROP TABLE IF EXISTS data."{t}"')
    conn.execute('CREATE TABLE data."fire_hydrants__v90001" AS SELECT g AS fid, '
                  "'TN-' || g AS hydrant_code, 100 AS diameter, g AS source_row, "
                  "ST_SetSRID(ST_MakePoint(105.7 + g * 1e-7, 10.0), 4326) AS geom "
                  "FROM generate_series(1, 300000) g")
    conn.execute('CREATE TABLE data."fire_hydrants__v90002" AS SELECT fid, hydrant_code, '
                 "CASE WHEN fid % 20 = 0 THEN 150 ELSE diameter END AS diameter, "
                 "source_row + 1 AS source_row, geom FROM data.\"fire_hydrants__v90001\" "
                 "WHERE fid % 20 <> 1 UNION ALL SELECT g, 'TN-' || g, 100, g, "
                 "ST_SetSRID(ST_MakePoint(105.8, 10.0), 4326) FROM "
                 "generate_series(300001, 315000) g")
    t0 = time.monotonic()
    with conn.transaction():
        first = changefeed.record_diff(conn, layer, 90001, "loader", None,
                                       "fire_hydrants__v90001")
    t1 = time.monotonic()
    with conn.transaction():
        second = changefeed.record_diff(conn, layer, 90002, "loader",
                                        "fire_hydrants__v90001", "fire_hydrants__v90002")
    t2 = time.monotonic()
    assert (first["created"], first["updated"], first["deleted"]) == (300_000, 0, 0)
    # source_row differs on every row and is ignored; a twentieth changed, a twentieth gone
    assert (second["created"], second["updated"], second["deleted"]) == (15_000, 15_000,
                                                                         15_000)
    print(f"first load 300k: {t1 - t0:.1f} s; re-delivery diff: {t2 - t1:.1f} s")
    assert t1 - t0 < 30 and t2 - t1 < 60
    for t in ("fire_hydrants__v90001", "fire_hydrants__v90002"):
        conn.execute(f'DROP TABLE data."{t}"')
