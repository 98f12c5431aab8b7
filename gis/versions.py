"""Layer versions, whatever a version is stored as: one row in ``spp.layer_versions`` each, the
current one named by ``spp.layers.current_version``.

A load runs ``begin`` (the layer's lock, then the preamble), ``unchanged`` (the same file is
already current), ``start`` (a 'loading' row), writes its version, ``make_current`` in the
transaction that publishes it, and ``prune``; a failed one ``fail``. ``rollback`` makes a kept
version current again. What differs between a table and a file is a ``Storage``.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from gis import changefeed, db, naming
from gis.catalog import sync_layer
from gis.errors import SPPError
from gis.raster import files


class VersionError(SPPError):
    exit_code = 2


class Storage:
    """How a version is kept: the ``spp.layer_versions`` column naming it, and what making it
    current or removing it does to the store."""

    column: str
    gone: str  # what a version whose name is NULL lost, for messages
    history_cmd: str

    def activate(self, conn: psycopg.Connection, layer_id: str, row: dict) -> None: ...
    def remove(self, conn: psycopg.Connection, ref: str) -> None: ...
    def sweep(self, conn: psycopg.Connection, layer_id: str, known: set[str]) -> None: ...


class Tables(Storage):
    column, gone, history_cmd = "table_name", "its table was dropped", "gis layer history"

    def activate(self, conn, layer_id, row):
        """Point the view at the version's table (within the caller's transaction)."""
        view = sql.Identifier(naming.SCHEMA, naming.view_name(layer_id))
        conn.execute(sql.SQL("DROP VIEW IF EXISTS {}").format(view))
        conn.execute(sql.SQL("CREATE VIEW {} AS SELECT * FROM {}").format(
            view, sql.Identifier(naming.SCHEMA, row["table_name"])))

    def remove(self, conn, ref):
        # an edit version is a view over a kept table and its own table of edited features
        kind = conn.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass("
                            "format('%%I.%%I', %s::text, %s::text))",
                            (naming.SCHEMA, ref)).fetchone()
        if kind and kind["relkind"] == "v":
            conn.execute(sql.SQL("DROP VIEW IF EXISTS {}").format(
                sql.Identifier(naming.SCHEMA, ref)))
            ref = naming.overlay_table(ref)
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(
            sql.Identifier(naming.SCHEMA, ref)))

    def sweep(self, conn, layer_id, known):
        pass  # a killed load's table went with its transaction


class Files(Storage):
    column, gone, history_cmd = "raster_path", "its file was pruned", "gis raster history"

    def activate(self, conn, layer_id, row):
        # readers resolve the file from spp.layers, so only check that it is still there
        if not files.exists(row["raster_path"]):
            raise VersionError(f"layer {layer_id!r}: the file of v{row['version']} "
                               f"({naming.raster_location(row['raster_path'])}) is missing; "
                               "cannot restore it")

    def remove(self, conn, ref):
        files.remove(ref)

    def sweep(self, conn, layer_id, known):
        """Files no row points at (a load killed between its rename and its commit)."""
        for rel in files.stored(layer_id):
            if rel not in known:
                files.remove(rel)


TABLES, FILES = Tables(), Files()


def storage_for(layer) -> Storage:
    return FILES if getattr(layer, "kind", "vector") == "raster" else TABLES


# -- the load preamble -------------------------------------------------------------------
def lock_key(layer_id: str) -> int:
    return zlib.crc32(f"spp-layer:{layer_id}".encode())


def lock_layer(conn: psycopg.Connection, layer_id: str,
               notify: Callable[[str], None] | None = None) -> None:
    """The layer's advisory lock (one load at a time, for the session); when another load
    holds it, say so (notify, default stderr) and then wait for it."""
    key = lock_key(layer_id)
    if conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (key,)).fetchone()["ok"]:
        return
    holder = conn.execute(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 "
        "AND objid::bigint = %s LIMIT 1", (key,)).fetchone()
    who = f" (database session {holder['pid']})" if holder else ""
    (notify or (lambda m: print(m, file=sys.stderr, flush=True)))(
        f"Another load of layer {layer_id!r} is running{who}; waiting for it to finish "
        "(Ctrl-C to stop waiting; nothing is changed by waiting)...")
    conn.execute("SELECT pg_advisory_lock(%s)", (key,))


def begin(conn: psycopg.Connection, layer, notify: Callable[[str], None] | None = None
          ) -> dict | None:
    """Take the layer's lock (held until ``conn`` closes), fail the loads a killed process
    left 'loading', bring the layer's row up to its definition; the current version's row."""
    lock_layer(conn, layer.id, notify)
    with conn.transaction():
        mark_interrupted(conn, layer.id)
        sync_layer(conn, layer)
        return current_version(conn, layer.id)


def mark_interrupted(conn: psycopg.Connection, layer_id: str) -> None:
    """Loads left 'loading' by a killed process: the caller holds the layer lock, so none runs."""
    conn.execute("UPDATE spp.layer_versions SET status = 'failed', finished_at = now(), "
                 "message = 'interrupted (process stopped before the swap); nothing changed' "
                 "WHERE layer_id = %s AND status = 'loading'", (layer_id,))


def unchanged(conn: psycopg.Connection, layer_id: str, sha: str, mode: str) -> int | None:
    """The version holding this very file in the current data, if any: a replace is a no-op
    when the current version is exactly that file; an append/upsert when the file is already
    one of the loads the current version is made of."""
    chain = current_chain(conn, layer_id)
    if not chain:
        return None
    if mode == "replace":
        return chain[0]["version"] if len(chain) == 1 and chain[0]["source_sha256"] == sha \
            else None
    return next((r["version"] for r in chain if r["source_sha256"] == sha), None)


def start(conn: psycopg.Connection, layer_id: str, current: dict | None, crs: dict,
          **lineage) -> int:
    """A new version row, 'loading', child of ``current``; ``crs`` is an operation's
    ``describe()``. Returns its number."""
    with conn.transaction():
        version = next_version(conn, layer_id)
        insert_version(conn, layer_id, version, {
            **lineage, "parent_version": current["version"] if current else None,
            "source_crs": crs["source_crs"], "crs_case": crs["datum_case"],
            "operation": crs["operation"], "pipeline": crs["pipeline"]})
    return version


def fail(layer_id: str, version: int, exc: BaseException, **fields) -> None:
    """Mark a load failed, on a fresh connection (the load's may be mid-COPY or aborted)."""
    reason = "interrupted by the user" if isinstance(exc, KeyboardInterrupt) else str(exc)
    with db.connect() as other:
        update_version(other, layer_id, version, status="failed", message=reason[:2000],
                       finished_at=datetime.now(UTC), **fields)


# -- version rows -----------------------------------------------------------------------
def next_version(conn: psycopg.Connection, layer_id: str) -> int:
    row = conn.execute("SELECT coalesce(max(version), 0) + 1 AS v FROM spp.layer_versions "
                       "WHERE layer_id = %s", (layer_id,)).fetchone()
    return row["v"]


def current_version(conn: psycopg.Connection, layer_id: str) -> dict | None:
    return conn.execute(
        "SELECT v.* FROM spp.layers l JOIN spp.layer_versions v "
        "ON v.layer_id = l.id AND v.version = l.current_version WHERE l.id = %s",
        (layer_id,)).fetchone()


def current_chain(conn: psycopg.Connection, layer_id: str) -> list[dict]:
    """The loads the current version is made of: its last replace, then appends/upserts."""
    chain = []
    row = current_version(conn, layer_id)
    while row is not None:
        chain.append(row)
        if row["mode"] == "replace" or row["parent_version"] is None:
            break
        row = conn.execute("SELECT * FROM spp.layer_versions WHERE layer_id = %s AND "
                           "version = %s", (layer_id, row["parent_version"])).fetchone()
    return chain[::-1]


_JSON_COLUMNS = ("encodings", "rejects", "raster", "edits")


def insert_version(conn: psycopg.Connection, layer_id: str, version: int, lineage: dict) -> None:
    cols = ["layer_id", "version", "status", *lineage.keys()]
    vals = [layer_id, version, "loading",
            *[Jsonb(v) if isinstance(v, dict | list) and k in _JSON_COLUMNS else v
              for k, v in lineage.items()]]
    conn.execute(sql.SQL("INSERT INTO spp.layer_versions ({}) VALUES ({})").format(
        sql.SQL(", ").join(map(sql.Identifier, cols)),
        sql.SQL(", ").join(sql.Placeholder() * len(vals))), vals)


def update_version(conn: psycopg.Connection, layer_id: str, version: int, **fields) -> None:
    sets = sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder())
                              for k in fields)
    vals = [Jsonb(v) if k in _JSON_COLUMNS else v for k, v in fields.items()]
    conn.execute(sql.SQL("UPDATE spp.layer_versions SET {} WHERE layer_id = %s AND version = %s"
                         ).format(sets), [*vals, layer_id, version])


def history(conn: psycopg.Connection, layer_id: str) -> list[dict]:
    return conn.execute("SELECT * FROM spp.layer_versions WHERE layer_id = %s ORDER BY version",
                        (layer_id,)).fetchall()


def audit(conn: psycopg.Connection, actor: str, action: str, layer_id: str | None,
          detail: dict | None = None, role: str | None = "loader") -> None:
    conn.execute("INSERT INTO spp.audit_log (actor, role, action, layer_id, detail) "
                 "VALUES (%s, %s, %s, %s, %s)",
                 (actor, role, action, layer_id, Jsonb(detail or {})))


# -- switching versions -------------------------------------------------------------------
def make_current(conn: psycopg.Connection, storage: Storage, layer_id: str, row: dict,
                 actor: str, action: str, detail: dict | None = None,
                 previous_status: str = "superseded", role: str = "loader") -> int | None:
    """Within the caller's transaction: the version of ``row`` (its stored name, feature count
    and bbox) becomes the current one; the previous one gets ``previous_status``. Returns the
    previous version. The only place ``spp.layers.current_version`` is written."""
    storage.activate(conn, layer_id, row)
    cur = conn.execute("SELECT current_version FROM spp.layers WHERE id = %s FOR UPDATE",
                       (layer_id,)).fetchone()
    previous = cur["current_version"] if cur else None
    if previous is not None and previous != row["version"]:
        update_version(conn, layer_id, previous, status=previous_status)
    conn.execute("UPDATE spp.layer_versions SET status = 'current', finished_at = "
                 "coalesce(finished_at, now()) WHERE layer_id = %s AND version = %s",
                 (layer_id, row["version"]))
    conn.execute("UPDATE spp.layers SET current_version = %s, feature_count = %s, bbox = %s, "
                 "updated_at = now() WHERE id = %s",
                 (row["version"], row.get("feature_count"), row.get("bbox"), layer_id))
    audit(conn, actor, action, layer_id, detail or {"from": previous, "to": row["version"]},
          role)
    return previous


def _rollback_target(conn: psycopg.Connection, storage: Storage, layer_id: str, current: int,
                     to: int | None) -> dict:
    """Without --to: the version the current one replaced, when kept; else the newest good
    (superseded) one; a rolled-back (bad) one only when nothing else is."""
    hint = f"see `{storage.history_cmd} {layer_id}`"
    if to is None:
        row = conn.execute(sql.SQL(
            "SELECT v.* FROM spp.layer_versions v WHERE v.layer_id = %(layer)s AND "
            "v.version < %(current)s AND v.status IN ('superseded', 'rolled_back') AND "
            "v.{} IS NOT NULL ORDER BY v.version IS NOT DISTINCT FROM (SELECT parent_version "
            "FROM spp.layer_versions WHERE layer_id = %(layer)s AND version = %(current)s) "
            "DESC, v.status = 'superseded' DESC, v.version DESC LIMIT 1").format(
            sql.Identifier(storage.column)), {"layer": layer_id, "current": current}).fetchone()
        if not row:
            raise VersionError(f"layer {layer_id!r}: no earlier kept version before "
                               f"v{current} ({hint})")
        return row
    row = conn.execute("SELECT * FROM spp.layer_versions WHERE layer_id = %s AND version = %s",
                       (layer_id, to)).fetchone()
    if not row:
        raise VersionError(f"layer {layer_id!r} has no version {to} ({hint})")
    if row["version"] == current:
        raise VersionError(f"layer {layer_id!r}: v{to} is already current")
    if row["status"] not in ("superseded", "rolled_back") or not row[storage.column]:
        gone = f", {storage.gone}" if not row[storage.column] else ""
        raise VersionError(f"layer {layer_id!r}: v{to} cannot be restored (status "
                           f"{row['status']}{gone}); kept versions are listed by "
                           f"`{storage.history_cmd} {layer_id}`")
    return row


def rollback(conn: psycopg.Connection, storage: Storage, layer_id: str, to: int | None,
             actor: str) -> dict:
    """Make an earlier kept version current again, atomically; returns its version row."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(layer_id),))
        cur = conn.execute("SELECT current_version FROM spp.layers WHERE id = %s FOR UPDATE",
                           (layer_id,)).fetchone()
        if not cur or cur["current_version"] is None:
            raise VersionError(f"layer {layer_id!r} has no loaded version to roll back from")
        row = _rollback_target(conn, storage, layer_id, cur["current_version"], to)
        before = conn.execute("SELECT table_name FROM spp.layer_versions WHERE layer_id = %s "
                              "AND version = %s", (layer_id, cur["current_version"])).fetchone()
        make_current(conn, storage, layer_id, row, actor, "rollback",
                     previous_status="rolled_back")
        if storage is TABLES and before and before["table_name"]:
            # what the rollback changed, for the change feed and its webhooks
            changefeed.record_diff(conn, layer_id, row["version"], actor,
                                   before["table_name"], row["table_name"], "rollback")
    return row


# -- retention ----------------------------------------------------------------------------
def retention_order(rows: list[dict]) -> list[dict]:
    """Kept versions, most worth keeping first: those that were good (superseded by a newer
    load), newest first, then those someone rolled back from."""
    return sorted(rows, key=lambda r: (r["status"] != "superseded", -r["version"]))


def prune(conn: psycopg.Connection, storage: Storage, layer_id: str, keep: int) -> list[int]:
    """Remove the stored versions beyond the ``keep`` (current included) most worth keeping,
    and any left by a failed load; the rows stay as history with their name NULL. A
    rolled-back version never pushes out a good one, and the newest good one before the
    current is always kept, whatever ``keep`` says."""
    col = sql.Identifier(storage.column)
    rows = conn.execute(sql.SQL(
        "SELECT v.version, v.{} AS ref, v.status, v.base_table FROM spp.layer_versions v "
        "JOIN spp.layers l ON l.id = v.layer_id WHERE v.layer_id = %s AND v.{} IS NOT NULL "
        "AND v.version IS DISTINCT FROM l.current_version").format(col, col),
        (layer_id,)).fetchall()
    kept = retention_order([r for r in rows if r["status"] in ("superseded", "rolled_back")])
    gone = kept[max(keep - 1, 1):] + [r for r in rows if r not in kept]
    # a table an edit version that stays (or the current one) builds on stays too
    staying = conn.execute(sql.SQL(
        "SELECT base_table FROM spp.layer_versions v JOIN spp.layers l ON l.id = v.layer_id "
        "WHERE v.layer_id = %s AND v.base_table IS NOT NULL AND v.{} IS NOT NULL AND "
        "(v.version = l.current_version OR v.version <> ALL(%s))").format(col),
        (layer_id, [r["version"] for r in gone])).fetchall()
    needed = {r["base_table"] for r in staying}
    dropped = []
    for r in gone:
        if r["ref"] in needed:
            continue
        storage.remove(conn, r["ref"])
        update_version(conn, layer_id, r["version"], **{storage.column: None})
        dropped.append(r["version"])
    known = {r["ref"] for r in conn.execute(sql.SQL(
        "SELECT {} AS ref FROM spp.layer_versions WHERE layer_id = %s AND {} IS NOT NULL"
        ).format(col, col), (layer_id,)).fetchall()}
    storage.sweep(conn, layer_id, known)
    return dropped
