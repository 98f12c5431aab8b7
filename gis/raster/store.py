"""Raster versions: files ``$SPP_DATA_DIR/rasters/<id>/v<N>.tif`` tracked in the same
``spp.layer_versions`` / ``spp.layers`` rows as vector versions (``raster_path`` instead of
``table_name``). The current version is ``spp.layers.current_version``; a reader resolves the
file from it, so switching versions (load or rollback) is one catalog transaction, and a file
is never written in place (a new version is a new file, renamed into place complete).
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg

from gis.loader import store
from gis.loader.store import VersionError
from gis.objectstore import object_store
from gis.settings import get_settings


def rasters_root() -> Path:
    return get_settings().data_dir / "rasters"


def relative_path(layer_id: str, version: int) -> str:
    return f"rasters/{layer_id}/v{version}.tif"


def absolute(rel: str) -> Path | str:
    """Where GDAL opens a stored version: a file, or /vsis3/... with an object store."""
    objects = object_store()
    return objects.gdal_path(rel) if objects else get_settings().data_dir / rel


def publish(local: Path, rel: str) -> Path | str:
    """Move a complete file into the store under ``rel`` (atomic either way)."""
    objects = object_store()
    if objects:
        objects.put_file(local, rel)
        local.unlink(missing_ok=True)
    else:
        target = get_settings().data_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(local, target)  # same filesystem as the scratch folder below data_dir
    return absolute(rel)


def exists(rel: str) -> bool:
    objects = object_store()
    return objects.exists(rel) if objects else (get_settings().data_dir / rel).is_file()


def remove(rel: str) -> None:
    objects = object_store()
    if objects:
        objects.delete(rel)
    else:
        (get_settings().data_dir / rel).unlink(missing_ok=True)


def stored(layer_id: str) -> list[str]:
    """The version files of a layer present in the store, as relative paths."""
    objects = object_store()
    if objects:
        return [r for r in objects.list(f"rasters/{layer_id}/") if r.endswith(".tif")]
    folder = rasters_root() / layer_id
    return [f"rasters/{layer_id}/{f.name}" for f in folder.glob("v*.tif")] \
        if folder.is_dir() else []


def current(conn: psycopg.Connection, layer_id: str) -> dict | None:
    return store.current_version(conn, layer_id)


def make_current(conn: psycopg.Connection, layer_id: str, version: int, bbox: list[float],
                 actor: str, action: str = "load_raster") -> None:
    """Within the caller's transaction: v<version> becomes the current one."""
    cur = conn.execute("SELECT current_version FROM spp.layers WHERE id = %s FOR UPDATE",
                       (layer_id,)).fetchone()
    previous = cur["current_version"] if cur else None
    if previous is not None and previous != version:
        conn.execute("UPDATE spp.layer_versions SET status = 'superseded' WHERE layer_id = %s "
                     "AND version = %s AND status = 'current'", (layer_id, previous))
    conn.execute("UPDATE spp.layer_versions SET status = 'current', finished_at = now() "
                 "WHERE layer_id = %s AND version = %s", (layer_id, version))
    conn.execute("UPDATE spp.layers SET current_version = %s, feature_count = NULL, bbox = %s, "
                 "updated_at = now() WHERE id = %s", (version, bbox, layer_id))
    store.audit(conn, actor, action, layer_id, {"from": previous, "to": version})


def prune(conn: psycopg.Connection, layer_id: str, keep: int) -> list[int]:
    """Delete the files of versions beyond the ``keep`` (current included) most worth keeping
    (store.retention_order) and of failed loads; the rows stay as history with raster_path
    NULL."""
    rows = conn.execute(
        "SELECT v.version, v.raster_path, v.status FROM spp.layer_versions v JOIN spp.layers l "
        "ON l.id = v.layer_id WHERE v.layer_id = %s AND v.raster_path IS NOT NULL "
        "AND v.version IS DISTINCT FROM l.current_version ORDER BY v.version DESC",
        (layer_id,)).fetchall()
    # same rule as vector versions: rolled-back versions never push out good ones
    kept = store.retention_order([r for r in rows if r["status"] in ("superseded",
                                                                      "rolled_back")])
    drop = kept[max(keep - 1, 1):] + [r for r in rows if r not in kept]
    dropped = []
    for r in drop:
        remove(r["raster_path"])
        conn.execute("UPDATE spp.layer_versions SET raster_path = NULL WHERE layer_id = %s "
                     "AND version = %s", (layer_id, r["version"]))
        dropped.append(r["version"])
    # files no row points at (a load killed between its rename and its commit)
    known = {r["raster_path"] for r in conn.execute(
        "SELECT raster_path FROM spp.layer_versions WHERE layer_id = %s AND raster_path "
        "IS NOT NULL", (layer_id,)).fetchall()}
    for rel in stored(layer_id):
        if rel not in known:
            remove(rel)
    return dropped


def rollback(conn: psycopg.Connection, layer_id: str, to: int | None, actor: str) -> dict:
    """Make an earlier kept raster version current again (atomically); returns its row."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (store.lock_key(layer_id),))
        cur = conn.execute("SELECT current_version FROM spp.layers WHERE id = %s FOR UPDATE",
                           (layer_id,)).fetchone()
        if not cur or cur["current_version"] is None:
            raise VersionError(f"layer {layer_id!r} has no loaded version to roll back from")
        current_v = cur["current_version"]
        if to is None:
            row = conn.execute(store.default_rollback_target("raster_path"),
                               {"layer": layer_id, "current": current_v}).fetchone()
            if not row:
                raise VersionError(f"layer {layer_id!r}: no earlier kept version before "
                                   f"v{current_v} (see `gis raster history {layer_id}`)")
        else:
            row = conn.execute("SELECT * FROM spp.layer_versions WHERE layer_id = %s AND "
                               "version = %s", (layer_id, to)).fetchone()
            if not row:
                raise VersionError(f"layer {layer_id!r} has no version {to} "
                                   f"(see `gis raster history {layer_id}`)")
            if row["version"] == current_v:
                raise VersionError(f"layer {layer_id!r}: v{to} is already current")
            if row["status"] not in ("superseded", "rolled_back") or not row["raster_path"]:
                raise VersionError(
                    f"layer {layer_id!r}: v{to} cannot be restored (status {row['status']}"
                    f"{', its file was pruned' if not row['raster_path'] else ''}); kept "
                    f"versions are listed by `gis raster history {layer_id}`")
        if not exists(row["raster_path"]):
            raise VersionError(f"layer {layer_id!r}: the file of v{row['version']} "
                               f"({absolute(row['raster_path'])}) is missing; cannot restore it")
        conn.execute("UPDATE spp.layer_versions SET status = 'rolled_back' WHERE layer_id = %s "
                     "AND version = %s", (layer_id, current_v))
        conn.execute("UPDATE spp.layer_versions SET status = 'current' WHERE layer_id = %s "
                     "AND version = %s", (layer_id, row["version"]))
        conn.execute("UPDATE spp.layers SET current_version = %s, feature_count = NULL, "
                     "bbox = %s, updated_at = now() WHERE id = %s",
                     (row["version"], row["bbox"], layer_id))
        store.audit(conn, actor, "rollback", layer_id, {"from": current_v, "to": row["version"]})
    return row
