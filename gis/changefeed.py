"""The change feed: which features each published layer version created, updated and deleted,
and the webhook outbox rows that announce it, written in the transaction that publishes it.

Edits call ``record`` with the ids they touched; loads and rollbacks call ``record_diff``,
which compares the old and new version tables by feature id in one INSERT ... SELECT (a
300 000-feature first load is one statement, not 300 000). Per-feature rows are kept, not a
"whole layer replaced" marker: the version tables they could be rebuilt from are pruned
(SPP_KEEP_VERSIONS), and a subscriber should read the same kind of answer whatever the change.

A change set's rows take their ids under a per-layer transaction lock, so within a layer the
ids commit in order and the feed can be paged by id without missing a late commit. Call
``record``/``record_diff`` after ``versions.make_current`` (which locks the layer's row).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from gis.loader.changes import IGNORED
from gis.settings import get_settings

CHANGES = ("created", "updated", "deleted")
NOTIFY_CHANNEL = "spp_hooks"  # wakes the delivery worker when outbox rows commit


def feed_lock_key(layer_id: str) -> int:
    return zlib.crc32(f"spp-feed:{layer_id}".encode())


def _begin_set(conn: psycopg.Connection, layer_id: str, version: int, operator: str | None,
               action: str) -> int:
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (feed_lock_key(layer_id),))
    _baseline(conn, layer_id, version)
    return conn.execute(
        "INSERT INTO spp.change_sets (layer_id, version, action, operator, at) "
        "VALUES (%s, %s, %s, %s, clock_timestamp()) RETURNING id",
        (layer_id, version, action, operator)).fetchone()["id"]


def _baseline(conn: psycopg.Connection, layer_id: str, version: int) -> None:
    """The layer's first change set: first an empty 'baseline' one for the version this one
    follows (its parent), so a client holding that version, loaded before the feed began,
    can ask for the changes since it. Skipped where the role may not read the lineage."""
    if conn.execute("SELECT 1 FROM spp.change_sets WHERE layer_id = %s LIMIT 1",
                    (layer_id,)).fetchone():
        return
    if not conn.execute("SELECT has_column_privilege('spp.layer_versions', 'parent_version', "
                        "'SELECT') AS ok").fetchone()["ok"]:
        return
    row = conn.execute("SELECT parent_version FROM spp.layer_versions WHERE layer_id = %s AND "
                       "version = %s", (layer_id, version)).fetchone()
    if row and row["parent_version"] is not None:
        conn.execute("INSERT INTO spp.change_sets (layer_id, version, action, at) VALUES "
                     "(%s, %s, 'baseline', clock_timestamp())",
                     (layer_id, row["parent_version"]))


def _ids(values: Iterable) -> list[int]:
    out = []
    for v in values or ():
        if isinstance(v, bool) or not isinstance(v, int | str):
            raise TypeError(f"feature ids are integers, not {v!r}")
        out.append(int(v))
    return out


def record(conn: psycopg.Connection, layer_id: str, version: int, operator: str | None,
           created: Iterable[int] = (), updated: Iterable[int] = (),
           deleted: Iterable[int] = (), action: str = "edit") -> int:
    """Within the caller's transaction: the change set of ``version`` (feature ids created,
    updated, deleted by ``operator``) and one outbox row per webhook of the layer. Returns
    the change set's id."""
    lists = {"created": _ids(created), "updated": _ids(updated), "deleted": _ids(deleted)}
    set_id = _begin_set(conn, layer_id, version, operator, action)
    changes = [c for c in CHANGES for _ in lists[c]]
    fids = [f for c in CHANGES for f in lists[c]]
    conn.execute("INSERT INTO spp.feature_changes (set_id, layer_id, change, fid) "
                 "SELECT %s, %s, c, f FROM unnest(%s::text[], %s::bigint[]) "
                 "WITH ORDINALITY AS u(c, f, n) ORDER BY n",
                 (set_id, layer_id, changes, fids))
    _finish(conn, set_id, {c: len(lists[c]) for c in CHANGES})
    return set_id


DIFF_TABLE = "spp_feed_diff"  # temporary, dropped at commit


def diff_tables(conn: psycopg.Connection, old_table: str | None, new_table: str
                ) -> dict[str, int]:
    """Within the caller's transaction: the features of ``data.new_table`` created, updated
    and deleted against ``data.old_table`` (None: all created), matched by feature id (loads
    keep a feature's id by its natural key), into a temporary table that ``record_diff``
    writes out. Columns compared: those both tables have, but ``IGNORED`` ones, with each
    type's own equality (geometry: same coordinates in the same order). Returns the counts."""
    conn.execute(sql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(sql.Identifier(DIFF_TABLE)))
    new = sql.Identifier("data", new_table)
    if old_table is None:
        select = sql.SQL("SELECT 'created'::text AS change, n.fid FROM {} n").format(new)
    else:
        cols = [c for c in _columns(conn, new_table) if c in set(_columns(conn, old_table))
                and c not in IGNORED]

        def row(alias: str) -> sql.Composable:
            return sql.SQL("ROW({})").format(sql.SQL(", ").join(
                sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(c))
                for c in cols))

        select = sql.SQL(
            "SELECT CASE WHEN o.fid IS NULL THEN 'created' WHEN n.fid IS NULL THEN 'deleted' "
            "ELSE 'updated' END AS change, coalesce(n.fid, o.fid) AS fid "
            "FROM {new} n FULL JOIN {old} o ON n.fid = o.fid "
            "WHERE n.fid IS NULL OR o.fid IS NULL OR {n} IS DISTINCT FROM {o}").format(
            new=new, old=sql.Identifier("data", old_table), n=row("n"), o=row("o"))
    conn.execute(sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS {}").format(
        sql.Identifier(DIFF_TABLE), select))
    rows = conn.execute(sql.SQL("SELECT change, count(*) AS n FROM pg_temp.{} GROUP BY change"
                                ).format(sql.Identifier(DIFF_TABLE))).fetchall()
    return {c: 0 for c in CHANGES} | {r["change"]: r["n"] for r in rows}


def _columns(conn: psycopg.Connection, table: str) -> list[str]:
    return [r["attname"] for r in conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND "
        "NOT attisdropped ORDER BY attnum",
        (sql.Identifier("data", table).as_string(conn),)).fetchall()]


def record_diff(conn: psycopg.Connection, layer_id: str, version: int, operator: str | None,
                old_table: str | None, new_table: str, action: str = "load",
                diffed: bool = False) -> dict:
    """Within the caller's transaction: the change set between two version tables (see
    ``diff_tables``; ``diffed``: it already ran in this transaction, for these tables), in
    one INSERT ... SELECT. Returns {id, created, updated, deleted}."""
    if not diffed:
        diff_tables(conn, old_table, new_table)
    set_id = _begin_set(conn, layer_id, version, operator, action)
    rows = conn.execute(sql.SQL(
        "WITH ins AS (INSERT INTO spp.feature_changes (set_id, layer_id, change, fid) "
        "SELECT %(set)s, %(layer)s, change, fid FROM pg_temp.{} "
        "ORDER BY array_position(ARRAY['created','updated','deleted'], change), fid "
        "RETURNING change) SELECT change, count(*) AS n FROM ins GROUP BY change").format(
        sql.Identifier(DIFF_TABLE)), {"set": set_id, "layer": layer_id}).fetchall()
    conn.execute(sql.SQL("DROP TABLE pg_temp.{}").format(sql.Identifier(DIFF_TABLE)))
    counts = {c: 0 for c in CHANGES} | {r["change"]: r["n"] for r in rows}
    _finish(conn, set_id, counts)
    return {"id": set_id, **counts}


def _finish(conn: psycopg.Connection, set_id: int, counts: dict[str, int]) -> None:
    """The set's counts, and its outbox rows (none when nothing changed)."""
    s = conn.execute("UPDATE spp.change_sets SET created = %s, updated = %s, deleted = %s "
                     "WHERE id = %s RETURNING *",
                     (counts["created"], counts["updated"], counts["deleted"], set_id)
                     ).fetchone()
    if not any(counts.values()):
        return
    hooks = conn.execute("SELECT id, with_operator FROM spp.webhooks WHERE layer_id = %s AND "
                         "removed_at IS NULL ORDER BY id", (s["layer_id"],)).fetchall()
    if not hooks:
        return
    cap = get_settings().hooks_payload_ids
    rows = conn.execute("SELECT id, change, fid FROM spp.feature_changes WHERE set_id = %s "
                        "ORDER BY id LIMIT %s", (set_id, cap + 1)).fetchall()
    body = payload(s, rows[:cap], complete=len(rows) <= cap)
    for h in hooks:
        doc = {**body, "operator": s["operator"]} if h["with_operator"] else body
        conn.execute("INSERT INTO spp.webhook_outbox (hook_id, set_id, payload) "
                     "VALUES (%s, %s, %s)", (h["id"], set_id, Jsonb(doc)))
    conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, s["layer_id"]))  # at commit


def payload(change_set: dict, rows: list[dict], complete: bool) -> dict:
    """What a subscriber is sent about one change set: the ids when there are at most
    SPP_HOOKS_PAYLOAD_IDS of them (``complete``), else the first ones and where to page the
    rest (``feed``, relative to the API's root, as a cursor)."""
    s = change_set
    first = rows[0]["id"] - 1 if rows else 0
    return {
        "type": "spp.features.changed",
        "collection": s["layer_id"], "version": s["version"], "action": s["action"],
        "time": s["at"].isoformat(), "changeSet": s["id"],
        "counts": {c: s[c] for c in CHANGES},
        **{c: [r["fid"] for r in rows if r["change"] == c] for c in CHANGES},
        "complete": complete,
        "feed": f"ogc/collections/{s['layer_id']}/changes?cursor={first}",
    }
