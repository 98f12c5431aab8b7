"""Edits of a vector layer's features (OGC API - Features Part 4, approved submissions): one
``apply`` call is one transaction and one new layer version, checked by the loader's own
code (``gis.loader.batch.process_batch``: schema, code lists, geometry repair or refusal,
CRS transformation, plausibility in the city and the ward) and rolled back like a load.

Storage. A load writes a full table a version. Copying it for every edit is O(features): on
300 000 parcels that is seconds of copying, re-indexing and re-projecting per edit, under the
layer's lock (bench/README.md has the figures). An edit version is instead a *view*
``data."<id>__v<N>"`` over the last full table (``base_table``) and its own small table
``<id>__v<N>_edits`` (``naming.overlay_table``) holding every feature edited since that full
table was made (new and changed rows, and deleted ones flagged ``_deleted``): the base rows
not in it, then its live rows. Every version stays immutable, so ``gis layer rollback`` only
re-points the layer's view, and an edit costs O(features edited since the last full table).
When that count passes ``SPP_EDIT_OVERLAY_MAX_ROWS`` the edit writes a full table again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import psycopg
import shapely
import shapely.geometry
from psycopg import sql

from gis import changefeed, labelpoint, naming, sfc, versions
from gis.crs import resolve_crs, to_wgs84
from gis.crs.errors import CRSError
from gis.errors import SPPError
from gis.layerdef import LayerDef, validate_definition
from gis.loader import searchindex, tables
from gis.loader.batch import process_batch
from gis.loader.copier import csv_bytes
from gis.loader.plausibility import ImplausibleLoadError, PlausibilityGate, ward_polygons
from gis.loader.schema import FieldMapping
from gis.loader.source import Batch
from gis.loader.textcols import TextDecoder
from gis.settings import get_settings

ACTIONS = ("create", "replace", "update", "delete")
DELETED = "_deleted"  # flag column of an overlay table
MAX_OPS = 1000  # features one call may change


class EditError(SPPError):
    status = 400
    exit_code = 2


class EditInvalid(EditError):
    """The input breaks a rule of the layer (the loader's message says which)."""


class EditNotFound(EditError):
    status = 404


class EditStale(EditError):
    """The feature changed since the editor read it (its ETag)."""

    status = 412


class EditConflict(EditError):
    status = 409


class EditBusy(EditConflict):
    """Another load, rollback or edit of the layer holds its lock."""

    retry_after = 5


@dataclass
class Op:
    """One change. ``feature``: for create and replace a GeoJSON feature (``geometry``,
    ``properties``); for update a JSON Merge Patch (RFC 7396) of it, whose ``geometry``, when
    present, replaces the geometry whole. ``expect``: the feature's token (``token_of`` an
    ETag) the editor saw; None: not checked."""

    action: str
    fid: int | None = None
    feature: dict | None = None
    expect: str | None = None


@dataclass
class EditResult:
    version: int
    fids: list[int]  # the feature of each op
    tokens: dict[int, str]  # fid -> token of the feature as stored now (deleted: absent)
    warnings: dict[str, int] = field(default_factory=dict)  # values set empty, unknown codes
    strategy: str = "overlay"  # overlay | table


# -- feature tokens (ETags) ----------------------------------------------------------------
def token_sql(columns: dict[str, str], alias: str | None = None) -> sql.Composable:
    """16 hex digits naming a feature's content as the caller sees it: the given property
    columns (name -> field type) and the geometry. Timestamps by their epoch, so the session
    time zone never changes a token."""
    def ident(name):
        return sql.Identifier(alias, name) if alias else sql.Identifier(name)

    parts = [sql.SQL("extract(epoch FROM {})::text" if t == "datetime" else "{}::text").format(
        ident(n)) for n, t in columns.items()]
    parts.append(sql.SQL("{}::text").format(ident("geom")))
    return sql.SQL("left(md5(ROW({})::text), 16)").format(sql.SQL(", ").join(parts))


def token_of(etag: str | None) -> str | None:
    """The feature token inside an item ETag (``W/"<representation>-<token>[.<scope>]"``)."""
    if not etag:
        return None
    tag = etag.strip().removeprefix("W/").strip('"').split(".", 1)[0]
    return tag.rsplit("-", 1)[-1] if "-" in tag else None


def property_columns(layer: LayerDef) -> dict[str, str]:
    """The served property columns of a layer table (name -> field type), catalog order."""
    out: dict[str, str] = {}
    for f in layer.fields:
        out[f.name] = f.type
        if f.codelist:
            out[f"{f.name}_codelist"] = "string"
    if layer.plane_area:
        out["area_plane_m2"] = out["area_geodesic_m2"] = "number"
    return out


# -- JSON Merge Patch ---------------------------------------------------------------------
def merge_patch(target, patch):
    """RFC 7396: null removes a member, an object merges, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# -- the one entry point -------------------------------------------------------------------
def apply(conn: psycopg.Connection, layer: LayerDef, ops: list[Op], actor: str,
          lineage: dict | None = None, *, crs: str = "EPSG:4326", axis_swap: bool = False,
          visible: dict[str, str] | None = None) -> EditResult:
    """Apply ``ops`` to the current version of ``layer`` as one new version, made current.

    ``conn``: an autocommit connection of the owner role. ``actor``: who (audit, lineage);
    ``lineage``: where the edit comes from (``source``: "OGC API", "submission:<id>"...,
    ``role``, ``client``), kept on the version row. ``crs``: the CRS of the geometries, as
    ``gis load --source-crs`` takes it (VN-2000 goes through EPSG:6960); ``axis_swap``: the
    coordinates are latitude first. ``visible``: the property columns the actor may read and
    write (name -> type, as ``token_sql`` takes them); None: all. Personal fields outside it
    keep their stored values. Raises an ``EditError`` (nothing changed) when refused.

    Called inside a transaction of the caller (an approved submission and its queue row),
    the edit is a savepoint of it and commits with it; the layer lock is held until then."""
    lineage = dict(lineage or {})
    if not ops:
        raise EditInvalid("no change given")
    if len(ops) > MAX_OPS:
        raise EditInvalid(f"{len(ops)} changes in one request; at most {MAX_OPS}")
    if layer.kind != "vector":
        raise EditInvalid(f"layer {layer.id!r} is a raster layer; its cells are not edited")
    try:
        op = to_wgs84(resolve_crs(crs))
    except CRSError as exc:
        raise EditInvalid(f"Content-Crs: {exc}") from exc
    columns = property_columns(layer)
    visible = columns if visible is None else {n: t for n, t in visible.items() if n in columns}
    s = get_settings()
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(
            sql.Literal(f"{max(1, round(s.edit_lock_wait_s * 1000))}ms")))
        try:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (versions.lock_key(layer.id),))
        except psycopg.errors.LockNotAvailable:
            raise EditBusy(f"layer {layer.id!r} is being loaded, rolled back or edited by "
                           "someone else; nothing was changed, try again shortly") from None
        conn.execute("SET LOCAL lock_timeout = 0")
        current = versions.current_version(conn, layer.id)
        if current is None or not current["table_name"]:
            raise EditConflict(f"layer {layer.id!r} has no loaded version to edit; load it "
                               "first (gis load)")
        result = _apply_locked(conn, layer, ops, actor, lineage, current, op, axis_swap,
                               columns, visible)
    _prune(conn, layer.id)
    return result


def _prune(conn, layer_id: str) -> None:
    """Versions beyond SPP_KEEP_VERSIONS, after the commit and without waiting for readers of
    old versions: a later edit or load prunes what is left."""
    try:
        with conn.transaction():
            conn.execute("SET LOCAL lock_timeout = '1s'")
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (versions.lock_key(layer_id),))
            versions.prune(conn, versions.TABLES, layer_id, get_settings().keep_versions)
    except psycopg.errors.LockNotAvailable:
        pass


def _apply_locked(conn, layer, ops, actor, lineage, current, op, axis_swap, columns,
                  visible) -> EditResult:
    rel = current["table_name"]
    touched = [o.fid for o in ops if o.action != "create"]
    if len(set(touched)) != len(touched):
        raise EditInvalid("a feature is changed twice in one request")
    stored = _stored(conn, layer, rel, touched, visible)
    for i, o in enumerate(ops, 1):
        if o.action not in ACTIONS:
            raise EditInvalid(f"change {i}: unknown action {o.action!r}")
        if o.action != "create":
            if o.fid not in stored:
                raise EditNotFound(f"no feature {o.fid} in collection {layer.id!r}")
            if o.expect is not None and o.expect != stored[o.fid]["token"]:
                raise EditStale(f"feature {o.fid} of {layer.id!r} was changed since it was "
                                "read (its ETag differs): read it again, then repeat the edit")

    # the features to write, as GeoJSON properties and geometries, grouped by their CRS
    hidden = [f.name for f in layer.fields if f.name not in visible]
    writes: list[tuple[Op, dict, object, bool]] = []  # op, properties, geometry, stored geom
    for i, o in enumerate(ops, 1):
        if o.action == "delete":
            continue
        doc = o.feature if isinstance(o.feature, dict) else None
        if doc is None:
            raise EditInvalid(f"change {i}: a feature (GeoJSON object) is needed")
        old = stored.get(o.fid)
        if o.action == "update":
            props = merge_patch(old["properties"], _properties(doc, i, patch=True))
            geom, from_store = (doc["geometry"], False) if "geometry" in doc else \
                (old["geometry"], True)
        else:
            props, geom, from_store = _properties(doc, i), doc.get("geometry"), False
        _check_names(layer, props, visible, i)
        for name in hidden:  # personal fields the editor may not see: kept as stored
            props[name] = old["hidden"].get(name) if old else None
        writes.append((o, props, geom, from_store))

    typed, geoms, warnings = _validate(conn, layer, writes, op, axis_swap)
    fids = _assign_ids(conn, layer, ops)
    written = [fids[i] for i, o in enumerate(ops) if o.action != "delete"]
    typed["extra"] = [stored[f]["extra"] if f in stored else None for f in written]
    deleted = [o.fid for o in ops if o.action == "delete"]
    _check_keys(conn, layer, rel, typed, written, touched)

    version = versions.next_version(conn, layer.id)
    versions.insert_version(conn, layer.id, version, {
        "mode": "edit", "operator": actor, "parent_version": current["version"],
        "source_name": lineage.get("source"), "source_crs": op.describe()["source_crs"],
        "crs_case": str(op.datum.case), "operation": op.operation, "pipeline": op.pipeline})
    new_rel, base, strategy, pad = _write(conn, layer, current, version, typed, geoms,
                                          written, deleted)
    created = [fids[i] for i, o in enumerate(ops) if o.action == "create"]
    updated = [o.fid for o in ops if o.action in ("replace", "update")]
    count = (current["feature_count"] or 0) + len(created) - len(deleted)
    bbox = _bbox(current["bbox"], geoms)
    changes = {"created": created, "updated": updated, "deleted": deleted}
    versions.update_version(
        conn, layer.id, version, table_name=new_rel, base_table=base, feature_count=count,
        bbox=bbox, sfc_pad=pad, count_read=len(ops), count_loaded=len(written),
        count_rejected=0,
        edits={**changes, **lineage, "strategy": strategy}, finished_at=_now(conn),
        # an edit moves a few features: the previous version's sample still says which
        # boxes hold many (services.ogc.curvesample)
        sfc_sample=current["sfc_sample"] if pad is not None else None,
        sfc_every=current["sfc_every"] if pad is not None else None)
    versions.make_current(
        conn, versions.TABLES, layer.id,
        {"version": version, "table_name": new_rel, "feature_count": count, "bbox": bbox},
        actor, "edit", {"version": version, **changes, **lineage},
        role=lineage.get("role", "editor"))
    changefeed.record(conn, layer.id, version, actor, **changes)  # feed + webhook outbox
    tokens = _tokens(conn, new_rel, written, visible)
    return EditResult(version, fids, tokens, warnings, strategy)


def _now(conn):
    return conn.execute("SELECT now() AS t").fetchone()["t"]


# -- reading the current features ----------------------------------------------------------
def _stored(conn, layer, rel: str, fids: list[int], visible: dict[str, str]) -> dict[int, dict]:
    """The current state of the features ``fids``: properties (visible ones), hidden
    properties, geometry (GeoJSON, WGS 84), extra, token."""
    if not fids:
        return {}
    rows = conn.execute(sql.SQL(
        "SELECT fid, to_jsonb(t) - 'geom' - 'geom_3857' - 'label_3857' AS row, "
        "ST_AsGeoJSON(geom, 15) AS g, extra::text AS extra, {tok} AS token FROM {rel} t "
        "WHERE fid = ANY(%s)").format(
        tok=token_sql(visible, "t"), rel=sql.Identifier(naming.SCHEMA, rel)),
        (list(fids),)).fetchall()
    out = {}
    names = [f.name for f in layer.fields]
    for r in rows:
        values = r["row"]
        out[r["fid"]] = {
            "properties": {n: values.get(n) for n in names if n in visible},
            "hidden": {n: values.get(n) for n in names if n not in visible},
            "geometry": json.loads(r["g"]), "extra": r["extra"], "token": r["token"]}
    return out


def _properties(doc: dict, i: int, patch: bool = False) -> dict:
    props = doc.get("properties")
    if props is None:
        return {}
    if not isinstance(props, dict):
        raise EditInvalid(f"change {i}: properties must be a JSON object")
    for k, v in props.items():
        if v is not None and not isinstance(v, str | int | float | bool):
            raise EditInvalid(f"property {k[:60]!r}: a value must be a string, number, "
                              "boolean or null")
        if isinstance(v, str) and "\x00" in v:  # PostgreSQL text cannot hold it
            raise EditInvalid(f"property {k[:60]!r} contains a NUL character; remove it")
    return dict(props)


def _check_names(layer, props: dict, visible: dict[str, str], i: int) -> None:
    """Only the layer's fields the editor may see; computed columns (code-list versions,
    areas) as read back are ignored."""
    writable = {f.name for f in layer.fields if f.name in visible}
    for name in [n for n in props if n not in writable and n in visible]:
        del props[name]  # computed: recomputed from the fields
    unknown = sorted(n for n in props if n not in writable)
    if unknown:
        raise EditInvalid(f"unknown properties {', '.join(map(repr, unknown[:10]))}; the "
                          f"properties of {layer.id!r} are {', '.join(sorted(writable))}")


# -- the loader's checks -------------------------------------------------------------------
def _geometry(value, i: int):
    if value is None:
        return None
    if not isinstance(value, dict):
        raise EditInvalid(f"feature {i}: geometry must be a GeoJSON geometry object")
    try:
        return shapely.geometry.shape(value)
    except Exception:  # noqa: BLE001 - shapely raises many kinds for malformed input
        kind = value.get("type")
        shown = kind if isinstance(kind, str) and len(kind) < 40 else "?"
        raise EditInvalid(f"feature {i}: geometry is not a valid GeoJSON {shown} (type and "
                          "coordinates)") from None


def _validate(conn, layer, writes, op, axis_swap: bool):
    """Typed rows and WGS 84 geometries of ``writes`` through ``process_batch``, the very
    function a load runs on each batch; any feature it rejects refuses the edit with the
    loader's reason."""
    if not writes:
        return pd.DataFrame(), np.empty(0, dtype=object), {}
    wgs84 = to_wgs84("EPSG:4326")
    names = [f.name for f in layer.fields]
    wards = _wards(conn, layer)
    parts, warnings = [], {}
    # stored geometries (an update without one) are WGS 84 already
    for group_op, stored in ((op, False), (wgs84, True)):
        idx = [k for k, w in enumerate(writes) if w[3] == stored]
        if not idx:
            continue
        geoms = np.array([_geometry(writes[k][2], k + 1) for k in idx], dtype=object)
        if axis_swap and not stored:
            geoms = np.array([None if g is None else shapely.transform(g, lambda c: c[:, ::-1])
                              for g in geoms], dtype=object)
        frame = pd.DataFrame({n: pd.Series([writes[k][1].get(n) for k in idx], dtype=object)
                              for n in names})
        rows = np.array([k + 1 for k in idx], dtype=np.int64)
        gate = PlausibilityGate(layer, group_op, _label(writes, idx), wards=wards)
        mapping = FieldMapping({n: n for n in names}, [])
        try:
            out = process_batch(Batch(frame, geoms, None, rows), layer, group_op, mapping,
                                TextDecoder(None, False), gate, "xy", _optional_keys(layer))
        except ImplausibleLoadError as exc:
            raise EditInvalid(str(exc)) from None
        if out.rejects:
            raise EditInvalid("; ".join(f"{_name(writes, r)}: {why}"
                                        for r, why in sorted(out.rejects)))
        for k, v in {**out.warnings, **{f"code list {c}": n for c, n in
                                       out.code_lists.items()}}.items():
            warnings[k] = warnings.get(k, 0) + v
        out.typed["_pos"] = [int(r) - 1 for r in out.rows]
        parts.append((out.typed, out.geoms))
    typed = pd.concat([p[0] for p in parts], ignore_index=True)
    geoms = np.concatenate([p[1] for p in parts])
    order = np.argsort(typed["_pos"].to_numpy(), kind="stable")
    typed = typed.iloc[order].drop(columns="_pos").reset_index(drop=True)
    return typed, geoms[order], warnings


_WARDS: dict[tuple, object] = {}  # (reference layer, its version, field) -> polygons


def _wards(conn, layer):
    """The loader's ward reference (``ward_polygons``), from the catalog's definitions (not
    the layer files: parsing them all cost more than the edit) and kept per version."""
    rows = conn.execute(
        "SELECT id, current_version, definition FROM spp.layers WHERE current_version IS NOT "
        "NULL AND definition->'checks'->'reference_for' IS NOT NULL "
        "AND definition->'checks'->'reference_for' <> 'null'::jsonb").fetchall()
    defs = {r["id"]: validate_definition(r["definition"]) for r in rows}
    key = (layer.id, tuple(sorted((r["id"], r["current_version"]) for r in rows)))
    if key not in _WARDS:
        if len(_WARDS) > 64:
            _WARDS.clear()
        _WARDS[key] = ward_polygons(conn, layer, defs)
    return _WARDS[key]


def _name(writes, row: int) -> str:
    o = writes[row - 1][0]
    return "the new feature" if o.fid is None else f"feature {o.fid}"


def _label(writes, idx) -> str:
    return _name(writes, idx[0] + 1) if len(idx) == 1 else f"{len(idx)} features"


def _assign_ids(conn, layer, ops) -> list[int]:
    """The fid of each op: new ones from the layer's sequence (the one the loader uses)."""
    seq = sql.Identifier(naming.SCHEMA, f"{layer.id}__fid_seq")
    conn.execute(sql.SQL("CREATE SEQUENCE IF NOT EXISTS {}").format(seq))
    n = sum(1 for o in ops if o.action == "create")
    new = [r["v"] for r in conn.execute(sql.SQL(
        "SELECT nextval({}) AS v FROM generate_series(1, %s)").format(
        sql.Literal(f'{naming.SCHEMA}."{layer.id}__fid_seq"')), (n,))] if n else []
    it = iter(new)
    return [next(it) if o.action == "create" else o.fid for o in ops]


def _py(value):
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _optional_keys(layer) -> frozenset[str]:
    """A layer whose key rule allows generated keys takes features without a code (their
    ids are the platform's), in edits as in loads (gis.loader.matching)."""
    return frozenset(layer.natural_key if layer.keys.generated == "allow" else ())


def _check_keys(conn, layer, rel: str, typed: pd.DataFrame, written: list[int],
                touched: list[int]) -> None:
    """A natural key names one feature: as a load refuses a key twice, so does an edit (an
    empty key, where the layer allows generated keys, names none)."""
    key = layer.natural_key
    if not key or not written:
        return
    label = " + ".join(key)
    seen: dict[tuple, int] = {}
    columns: list[list] = [[] for _ in key]
    for i, fid in enumerate(written):
        values = tuple(_py(typed[k].iloc[i]) for k in key)
        if _optional_keys(layer) and any(v is None for v in values):
            continue
        if values in seen:
            raise EditConflict(f"duplicate {label} {values} in the request (features "
                               f"{seen[values]} and {fid})")
        seen[values] = fid
        for col, v in zip(columns, values, strict=True):
            col.append(v)
    # one statement for all: the keys as typed arrays joined to the layer's key index
    types = [tables.PG_TYPES[layer.field[k].type] for k in key]
    arrays = sql.SQL(", ").join(sql.SQL("%s::{}[]").format(sql.SQL(t)) for t in types)
    names = [sql.Identifier(f"k{i}") for i in range(len(key))]
    on = sql.SQL(" AND ").join(sql.SQL("t.{} = k.{}").format(sql.Identifier(c), n)
                               for c, n in zip(key, names, strict=True))
    hit = conn.execute(sql.SQL(
        "SELECT t.fid, k.n FROM unnest({}) WITH ORDINALITY AS k({}, n) JOIN {} t ON {} "
        "WHERE t.fid <> ALL(%s) LIMIT 1").format(
        arrays, sql.SQL(", ").join(names), sql.Identifier(naming.SCHEMA, rel), on),
        [*columns, list(touched)]).fetchone()
    if hit:
        shown = ", ".join(str(c[hit["n"] - 1]) for c in columns)
        raise EditConflict(f"{label} {shown!r} already in the layer (feature {hit['fid']}); "
                           "change that feature instead")


# -- writing the new version ---------------------------------------------------------------
def _table_columns(conn, rel: str) -> list[tuple[str, bool]]:
    """(name, generated) of a table's columns, in order."""
    rows = conn.execute(
        "SELECT attname, attgenerated <> '' AS gen FROM pg_attribute WHERE attrelid = "
        "to_regclass(format('%%I.%%I', %s::text, %s::text)) AND attnum > 0 AND NOT "
        "attisdropped ORDER BY attnum", (naming.SCHEMA, rel)).fetchall()
    return [(r["attname"], r["gen"]) for r in rows]


def _write(conn, layer, current, version: int, typed, geoms, written: list[int],
           deleted: list[int]) -> tuple[str, str | None, str, float | None]:
    """The new version's relation: (its name, the full table it builds on, strategy, its
    curve pad: gis.sfc). Written features are keyed up to the current version's pad, so
    the pad stays; larger ones, or all when the current keys are unknown, go in the bucket."""
    rel = current["table_name"]
    base = current["base_table"] or rel
    previous = naming.overlay_table(rel) if current["base_table"] else None
    columns = ["fid", *(n for n, _ in tables.data_columns(layer)), "geom"]
    stored = [n for n, gen in _table_columns(conn, base) if not gen]
    keyed = sfc.COLUMN in stored  # the base table has curve keys (made since they exist)
    pad = current["sfc_pad"] if keyed else None
    curve = sfc.Keyer(threshold=-1.0 if pad is None else pad)
    if labelpoint.COLUMN in stored:  # written features get theirs (csv_bytes), others keep
        columns.append(labelpoint.COLUMN)
    if keyed:  # last: the full table's copy below writes it apart
        columns.append(sfc.COLUMN)
    if set(stored) != set(columns):
        raise EditConflict(f"the fields of layer {layer.id!r} changed since its current "
                           "version was loaded; load the layer again before editing it")
    gone = sorted(set(written) | set(deleted))
    ident = sql.Identifier
    cols = sql.SQL(", ").join(map(ident, columns))
    held = conn.execute(sql.SQL("SELECT count(*) AS n FROM {} WHERE fid <> ALL(%s)").format(
        ident(naming.SCHEMA, previous)), (gone,)).fetchone()["n"] if previous else 0
    limit = get_settings().edit_overlay_max_rows
    new = naming.version_table(layer.id, version)
    copy = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)")

    if held + len(gone) > limit:  # a full table again, always with the curve column
        full = [*columns[:-1], sfc.COLUMN] if keyed else [*columns, sfc.COLUMN]
        kept = keyed and pad is not None
        tables.create_version_table(conn, layer, new)
        conn.execute(sql.SQL("INSERT INTO {} ({}) SELECT {}, {} FROM {} WHERE fid <> ALL(%s)"
                             ).format(ident(naming.SCHEMA, new),
                                      sql.SQL(", ").join(map(ident, full)),
                                      sql.SQL(", ").join(map(ident, full[:-1])),
                                      tables.curve_source(kept), ident(naming.SCHEMA, rel)),
                     (gone,))
        if written:
            rows = csv_bytes(typed, full, np.asarray(written, dtype=np.int64),
                             [None] * len(written), geoms, curve)
            with conn.cursor().copy(copy.format(ident(naming.SCHEMA, new), sql.SQL(", ").join(
                    map(ident, full)))) as cp:
                cp.write(rows)
        tables.index_keys(conn, layer, new)
        searchindex.create(conn, layer, new)
        tables.index_geometry(conn, layer, new)
        return new, None, "table", pad if kept else 0.0
    rows = csv_bytes(typed, columns, np.asarray(written, dtype=np.int64),
                     [None] * len(written), geoms, curve) if written else b""

    overlay = naming.overlay_table(new)
    o, b = ident(naming.SCHEMA, overlay), ident(naming.SCHEMA, base)
    conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING GENERATED)"
                         ).format(o, b))
    conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN {} boolean NOT NULL DEFAULT false").format(
        o, ident(DELETED)))
    flag = sql.SQL(", ").join([cols, ident(DELETED)])
    if previous:
        conn.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} WHERE fid <> ALL(%s)").format(
            o, flag, flag, ident(naming.SCHEMA, previous)), (gone,))
    if rows:
        with conn.cursor().copy(copy.format(o, cols)) as cp:
            cp.write(rows)
    if deleted:  # tombstones for the deleted features the full table has
        conn.execute(sql.SQL("INSERT INTO {} ({}) SELECT {}, true FROM {} WHERE fid = ANY(%s)"
                             ).format(o, flag, cols, b), (deleted,))
    conn.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (fid)").format(o))
    conn.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom)").format(o))
    if keyed:
        conn.execute(sql.SQL("CREATE INDEX ON {} ({}, fid)").format(o, ident(sfc.COLUMN)))
    conn.execute(sql.SQL("ANALYZE {}").format(o))
    # The branches carry no WHERE of their own, so PostgreSQL flattens the UNION ALL and
    # pushes the outer condition into each, folded: the full table's rows get a hashed
    # "fid NOT IN (edited)" filter, and a page in fid order stays a merge of two index scans
    # (a filter inside a branch, or NOT EXISTS, made every page sort the whole table).
    listed = sql.SQL(", ").join(map(ident, [n for n, _ in _table_columns(conn, base)]))
    conn.execute(sql.SQL(
        "CREATE VIEW {new} AS SELECT {cols} FROM (SELECT {cols}, false AS _edited, false AS "
        "{flag} FROM {b} UNION ALL SELECT {cols}, true, {flag} FROM {o}) u WHERE NOT u.{flag} "
        "AND (u._edited OR u.fid NOT IN (SELECT e.fid FROM {o} e))").format(
        new=ident(naming.SCHEMA, new), cols=listed, b=b, o=o, flag=ident(DELETED)))
    return new, base, "overlay", pad


def _bbox(current: list[float] | None, geoms) -> list[float] | None:
    """The layer's extent grown by the written geometries (deletions never shrink it)."""
    boxes = [list(current)] if current else []
    if len(geoms):
        b = shapely.bounds(np.asarray(geoms, dtype=object))
        boxes.append([float(np.nanmin(b[:, 0])), float(np.nanmin(b[:, 1])),
                      float(np.nanmax(b[:, 2])), float(np.nanmax(b[:, 3]))])
    if not boxes:
        return None
    return [min(x[0] for x in boxes), min(x[1] for x in boxes),
            max(x[2] for x in boxes), max(x[3] for x in boxes)]


def _tokens(conn, rel: str, fids: list[int], visible: dict[str, str]) -> dict[int, str]:
    if not fids:
        return {}
    rows = conn.execute(sql.SQL("SELECT fid, {} AS token FROM {} t WHERE fid = ANY(%s)").format(
        token_sql(visible, "t"), sql.Identifier(naming.SCHEMA, rel)), (list(fids),)).fetchall()
    return {r["fid"]: r["token"] for r in rows}
