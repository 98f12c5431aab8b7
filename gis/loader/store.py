"""Versioned layer tables in PostGIS: one table a version, a view for the current one.

Every load writes ``data."<id>__v<N>"`` inside one transaction and, at its end, points the view
``data."<id>"`` at it. Readers keep seeing the previous version until the commit; an
interrupted load (Ctrl-C, kill -9, disk full) rolls back and leaves nothing half-made. Rollback
re-points the view at a kept older table.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Callable

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from gis.errors import SPPError
from gis.layerdef import LayerDef

PG_TYPES = {"string": "text", "integer": "bigint", "number": "double precision",
            "boolean": "boolean", "date": "date", "datetime": "timestamptz"}


class VersionError(SPPError):
    exit_code = 2


def version_table(layer_id: str, version: int) -> str:
    return f"{layer_id}__v{version}"


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


def data_columns(layer: LayerDef) -> list[tuple[str, str]]:
    """(name, SQL type) of a layer table's columns besides fid and geom, in order."""
    cols = [(f.name, PG_TYPES[f.type]) for f in layer.fields]
    cols += [(f"{f.name}_codelist", "text") for f in layer.fields if f.codelist]
    if layer.plane_area:
        cols += [("area_plane_m2", "double precision"), ("area_geodesic_m2", "double precision")]
    cols += [("extra", "jsonb"), ("source_row", "integer")]
    return cols


def create_version_table(conn: psycopg.Connection, layer: LayerDef, table: str) -> None:
    cols = [sql.SQL("fid bigint NOT NULL")]  # primary key added after the bulk COPY
    cols += [sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t))
             for n, t in data_columns(layer)]
    cols.append(sql.SQL("geom geometry({}, 4326) NOT NULL").format(sql.SQL(layer.geometry)))
    # Web Mercator copy for vector tiles, kept by PostgreSQL itself (never in COPY or merges)
    cols.append(sql.SQL("geom_3857 geometry({}, 3857) GENERATED ALWAYS AS "
                        "(ST_Transform(geom, 3857)) STORED").format(sql.SQL(layer.geometry)))
    conn.execute(sql.SQL("CREATE TABLE data.{} ({})").format(
        sql.Identifier(table), sql.SQL(", ").join(cols)))


def merge_current_rows(conn: psycopg.Connection, layer: LayerDef, table: str,
                       current_table: str, mode: str) -> None:
    """append: keep every current feature; upsert: those whose key was not re-delivered."""
    names = ["fid", *(n for n, _ in data_columns(layer)), "geom"]
    cols = sql.SQL(", ").join(map(sql.Identifier, names))
    keep = sql.SQL("")
    if mode == "upsert":
        join = sql.SQL(" AND ").join(
            sql.SQL("n.{0} = c.{0}").format(sql.Identifier(k)) for k in layer.natural_key)
        keep = sql.SQL(" WHERE NOT EXISTS (SELECT 1 FROM {} n WHERE {})").format(
            sql.Identifier("data", table), join)
    conn.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} c{}").format(
        sql.Identifier("data", table), cols,
        sql.SQL(", ").join(sql.SQL("c.{}").format(sql.Identifier(n)) for n in names),
        sql.Identifier("data", current_table), keep))


def index_keys(conn: psycopg.Connection, layer: LayerDef, table: str) -> None:
    ident = sql.Identifier("data", table)
    conn.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (fid)").format(ident))
    if layer.natural_key:
        conn.execute(sql.SQL("CREATE UNIQUE INDEX {} ON {} ({})").format(
            sql.Identifier(f"{table}_key"), ident,
            sql.SQL(", ").join(map(sql.Identifier, layer.natural_key))))


def index_geometry(conn: psycopg.Connection, table: str) -> None:
    ident = sql.Identifier("data", table)
    conn.execute(sql.SQL("CREATE INDEX {} ON {} USING gist (geom)").format(
        sql.Identifier(f"{table}_geom"), ident))
    conn.execute(sql.SQL("ANALYZE {}").format(ident))


def point_view(conn: psycopg.Connection, layer_id: str, table: str) -> None:
    """Make ``data."<id>"`` show the given version table (within the caller's transaction)."""
    view = sql.Identifier("data", layer_id)
    conn.execute(sql.SQL("DROP VIEW IF EXISTS {}").format(view))
    conn.execute(sql.SQL("CREATE VIEW {} AS SELECT * FROM {}").format(
        view, sql.Identifier("data", table)))


def table_stats(conn: psycopg.Connection, table: str) -> tuple[int, list[float] | None]:
    row = conn.execute(sql.SQL(
        "SELECT n, ST_XMin(e) AS x0, ST_YMin(e) AS y0, ST_XMax(e) AS x1, ST_YMax(e) AS y1 "
        "FROM (SELECT count(*) AS n, ST_Extent(geom) AS e FROM {}) s").format(
        sql.Identifier("data", table))).fetchone()
    if not row["n"]:
        return 0, None
    return row["n"], [row["x0"], row["y0"], row["x1"], row["y1"]]


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


def mark_interrupted(conn: psycopg.Connection, layer_id: str) -> None:
    """Loads left 'loading' by a killed process: the caller holds the layer lock, so none runs."""
    conn.execute("UPDATE spp.layer_versions SET status = 'failed', finished_at = now(), "
                 "message = 'interrupted (process stopped before the swap); nothing changed' "
                 "WHERE layer_id = %s AND status = 'loading'", (layer_id,))


def insert_version(conn: psycopg.Connection, layer_id: str, version: int, lineage: dict) -> None:
    cols = ["layer_id", "version", "status", *lineage.keys()]
    vals = [layer_id, version, "loading",
            *[Jsonb(v) if isinstance(v, dict | list) and k in ("encodings", "rejects") else v
              for k, v in lineage.items()]]
    conn.execute(sql.SQL("INSERT INTO spp.layer_versions ({}) VALUES ({})").format(
        sql.SQL(", ").join(map(sql.Identifier, cols)),
        sql.SQL(", ").join(sql.Placeholder() * len(vals))), vals)


def update_version(conn: psycopg.Connection, layer_id: str, version: int, **fields) -> None:
    sets = sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder())
                              for k in fields)
    vals = [Jsonb(v) if k in ("encodings", "rejects") else v for k, v in fields.items()]
    conn.execute(sql.SQL("UPDATE spp.layer_versions SET {} WHERE layer_id = %s AND version = %s"
                         ).format(sets), [*vals, layer_id, version])


def history(conn: psycopg.Connection, layer_id: str) -> list[dict]:
    return conn.execute("SELECT * FROM spp.layer_versions WHERE layer_id = %s ORDER BY version",
                        (layer_id,)).fetchall()


def retention_order(rows: list[dict]) -> list[dict]:
    """Kept versions, most worth keeping first: those that were good (superseded by a newer
    load), newest first, then those someone rolled back from. Failed loads have no table."""
    return sorted(rows, key=lambda r: (r["status"] != "superseded", -r["version"]))


def drop_old_versions(conn: psycopg.Connection, layer_id: str, keep: int) -> list[int]:
    """Drop the tables of versions beyond the `keep` (current included) most worth keeping
    (rows stay as history). A rolled-back version never pushes out a good one, and the
    newest good one before the current is always kept, whatever `keep` says."""
    rows = conn.execute(
        "SELECT v.version, v.table_name, v.status FROM spp.layer_versions v JOIN spp.layers l "
        "ON l.id = v.layer_id WHERE v.layer_id = %s AND v.table_name IS NOT NULL "
        "AND v.version <> l.current_version", (layer_id,)).fetchall()
    dropped = []
    for row in retention_order(rows)[max(keep - 1, 1):]:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(
            sql.Identifier("data", row["table_name"])))
        conn.execute("UPDATE spp.layer_versions SET table_name = NULL WHERE layer_id = %s "
                     "AND version = %s", (layer_id, row["version"]))
        dropped.append(row["version"])
    return dropped


def audit(conn: psycopg.Connection, actor: str, action: str, layer_id: str | None,
          detail: dict | None = None, role: str | None = "loader") -> None:
    conn.execute("INSERT INTO spp.audit_log (actor, role, action, layer_id, detail) "
                 "VALUES (%s, %s, %s, %s, %s)",
                 (actor, role, action, layer_id, Jsonb(detail or {})))


def default_rollback_target(kept_column: str) -> str:
    """SQL for `rollback` without --to: the version the current one replaced, when kept;
    else the newest good (superseded) one; a rolled-back (bad) one only when nothing else is."""
    return (f"SELECT v.* FROM spp.layer_versions v WHERE v.layer_id = %(layer)s AND "
            f"v.version < %(current)s AND v.status IN ('superseded', 'rolled_back') AND "
            f"v.{kept_column} IS NOT NULL ORDER BY v.version IS NOT DISTINCT FROM (SELECT "
            f"parent_version FROM spp.layer_versions WHERE layer_id = %(layer)s AND "
            f"version = %(current)s) DESC, v.status = 'superseded' DESC, v.version DESC LIMIT 1")


def rollback(conn: psycopg.Connection, layer_id: str, to: int | None, actor: str) -> dict:
    """Make an earlier kept version current again; returns its version row."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(layer_id),))
        cur = conn.execute("SELECT current_version FROM spp.layers WHERE id = %s FOR UPDATE",
                           (layer_id,)).fetchone()
        if not cur or cur["current_version"] is None:
            raise VersionError(f"layer {layer_id!r} has no loaded version to roll back from")
        current = cur["current_version"]
        if to is None:
            row = conn.execute(default_rollback_target("table_name"),
                               {"layer": layer_id, "current": current}).fetchone()
            if not row:
                raise VersionError(f"layer {layer_id!r}: no earlier kept version before "
                                   f"v{current} (see `gis layer history {layer_id}`)")
        else:
            row = conn.execute("SELECT * FROM spp.layer_versions WHERE layer_id = %s AND "
                               "version = %s", (layer_id, to)).fetchone()
            if not row:
                raise VersionError(f"layer {layer_id!r} has no version {to} "
                                   f"(see `gis layer history {layer_id}`)")
            if row["version"] == current:
                raise VersionError(f"layer {layer_id!r}: v{to} is already current")
            if row["status"] not in ("superseded", "rolled_back") or not row["table_name"]:
                raise VersionError(
                    f"layer {layer_id!r}: v{to} cannot be restored (status {row['status']}"
                    f"{', its table was dropped' if not row['table_name'] else ''}); kept "
                    f"versions are listed by `gis layer history {layer_id}`")
        point_view(conn, layer_id, row["table_name"])
        conn.execute("UPDATE spp.layer_versions SET status = 'rolled_back' WHERE layer_id = %s "
                     "AND version = %s", (layer_id, current))
        conn.execute("UPDATE spp.layer_versions SET status = 'current' WHERE layer_id = %s "
                     "AND version = %s", (layer_id, row["version"]))
        conn.execute("UPDATE spp.layers SET current_version = %s, feature_count = %s, bbox = %s,"
                     " updated_at = now() WHERE id = %s",
                     (row["version"], row["feature_count"], row["bbox"], layer_id))
        audit(conn, actor, "rollback", layer_id, {"from": current, "to": row["version"]})
    return row
