"""What the services know about each loaded layer, vector or raster, cached per (current
version, definition): one catalog on ``app.state.catalog``, whose entries carry their ``kind``.

One short query reads ``spp.layers`` at most once per ``ttl`` seconds; a vector layer whose
current_version or definition changed gets its view's columns read again. Requests therefore
cost one SQL round trip for their data, and a new load shows within ``ttl`` seconds. A raster
layer's current file is named by its id and current version (gis.naming); the web role reads
only ``spp.layers``, never the version rows.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from psycopg import AsyncConnection, sql
from pydantic import ValidationError

from gis.layerdef import LayerDef, RasterLayerDef
from gis.naming import raster_key, raster_location

# SQL type of the view column -> field type of the layer-definition vocabulary
_PG_TO_FIELD = {"text": "string", "bigint": "integer", "integer": "integer",
                "double precision": "number", "boolean": "boolean", "date": "date",
                "timestamp with time zone": "datetime"}
# never properties: the last three are gis.sfc's curve key and gis.labelpoint's label point
HIDDEN_COLUMNS = {"fid", "geom", "geom_3857", "extra", "source_row", "_sfc", "label_3857"}
log = logging.getLogger("services.catalog")


@dataclass(frozen=True)
class Column:
    """A column of a layer's view that may be served as a property."""

    name: str
    type: str  # string | integer | number | boolean | date | datetime
    title_en: str
    title_vi: str
    description: str | None = None
    unit: str | None = None
    personal: bool = False  # personal data: only for principals allowed that field


@dataclass(frozen=True)
class Lineage:
    """How the current version was loaded (its ``spp.layer_versions`` row): what catalogue
    records and dataset pages report as quality and lineage."""

    mode: str | None = None  # replace | append | upsert
    source_format: str | None = None
    source_crs: str | None = None  # the CRS the delivery was read in
    crs_case: str | None = None  # e.g. official / towgs84_unflipped_signs
    operation: str | None = None  # the coordinate operation applied, e.g. EPSG:6960
    pipeline: str | None = None  # the exact PROJ pipeline
    count_read: int | None = None
    count_loaded: int | None = None
    count_repaired: int | None = None
    count_rejected: int | None = None
    count_empty: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    first_loaded_at: datetime | None = None  # the layer's first successful load


LINEAGE_COLUMNS = ("mode", "source_format", "source_crs", "crs_case", "operation", "pipeline",
                   "count_read", "count_loaded", "count_repaired", "count_rejected",
                   "count_empty", "started_at", "finished_at")


@dataclass(frozen=True)
class LayerInfo:
    id: str
    title_vi: str
    title_en: str
    description_vi: str | None
    description_en: str | None
    owner_vi: str
    owner_en: str
    owner_code: str
    licence: str | None
    keywords: list[str]
    access_level: str
    departments: list[str]
    geometry_type: str
    definition: LayerDef
    bbox: list[float] | None
    feature_count: int | None
    current_version: int
    definition_sha: str
    updated_at: datetime | None
    columns: dict[str, Column] = field(default_factory=dict)
    temporal: list[str | None] | None = None  # [min, max] of the time field, ISO strings
    mercator: bool = False  # the version table stores geom_3857 (Web Mercator) for tiles
    labelled: bool = False  # it has label points (gis.labelpoint; NULL ones are computed)
    # the version's features carry curve keys (gis.sfc): a bbox query is widened by this
    # pad (degrees) and paged along the curve; None: the table has none (fid order)
    sfc_pad: float | None = None
    # the version keeps a sample of its keys, one in sfc_every (gis.sfc.estimate; the keys
    # themselves are read once per version: services.ogc.curvesample); None: no sample
    sfc_every: int | None = None
    kind: str = "vector"  # vector | raster
    lineage: Lineage = Lineage()

    @property
    def time_field(self) -> str | None:
        tf = self.definition.time_field
        return tf if tf and tf in self.columns else None

    @property
    def raster_file(self) -> Path | str:
        """Where GDAL opens a raster layer's current version (a file or /vsis3/...)."""
        return raster_location(raster_key(self.id, self.current_version))


def _columns(layer: LayerDef, present: dict[str, str]) -> dict[str, Column]:
    out: dict[str, Column] = {}
    for f in layer.fields:
        if f.name in present:
            out[f.name] = Column(f.name, _PG_TO_FIELD.get(present[f.name], f.type), f.label.en,
                                 f.label.vi, f.description.en if f.description else None,
                                 f.unit, f.personal)
        cl = f"{f.name}_codelist"
        if f.codelist and cl in present:
            out[cl] = Column(cl, "string", f"{f.label.en}: code-list version",
                             f"{f.label.vi}: phiên bản danh mục", None, None, f.personal)
    for name, en, vi in (("area_plane_m2", "Area in the VN-2000 plane (m²)",
                          "Diện tích trên mặt phẳng VN-2000 (m²)"),
                         ("area_geodesic_m2", "Geodesic area (m²)", "Diện tích trắc địa (m²)")):
        if name in present:
            out[name] = Column(name, "number", en, vi, None, "m2")
    return out


class Catalog:
    """Loaded layers read from spp.layers by one query at most once per ``ttl`` seconds."""

    def __init__(self, ttl: float = 1.0):
        self.ttl = ttl
        self._layers: dict[str, LayerInfo] = {}
        self._by_kind: dict[str, dict[str, LayerInfo]] = {}
        self._read_at = -1e9
        self._lock = asyncio.Lock()

    async def entries(self, conn: AsyncConnection) -> dict[str, LayerInfo]:
        """Every loaded layer, whatever its kind."""
        if time.monotonic() - self._read_at > self.ttl:
            async with self._lock:
                if time.monotonic() - self._read_at > self.ttl:
                    self._set(await self._refresh(conn))
                    self._read_at = time.monotonic()
        return self._layers

    async def layers(self, conn: AsyncConnection) -> dict[str, LayerInfo]:
        """The vector layers (collections with features)."""
        await self.entries(conn)
        return self.of_kind("vector")

    async def rasters(self, conn: AsyncConnection) -> dict[str, LayerInfo]:
        await self.entries(conn)
        return self.of_kind("raster")

    def of_kind(self, kind: str) -> dict[str, LayerInfo]:
        """The layers of one kind as last read, however old."""
        return self._by_kind.get(kind, {})

    def last_read(self) -> dict[str, LayerInfo]:
        """Every layer of the last read, however old."""
        return self._layers

    def fresh(self) -> dict[str, LayerInfo] | None:
        """The vector layers if read less than ``ttl`` seconds ago (no connection needed)."""
        return self.of_kind("vector") if time.monotonic() - self._read_at <= self.ttl else None

    def _set(self, layers: dict[str, LayerInfo]) -> None:
        by_kind: dict[str, dict[str, LayerInfo]] = {}
        for info in layers.values():
            by_kind.setdefault(info.kind, {})[info.id] = info
        self._layers, self._by_kind = layers, by_kind

    async def _refresh(self, conn: AsyncConnection) -> dict[str, LayerInfo]:
        cur = await conn.execute(_LAYERS_SQL)
        out: dict[str, LayerInfo] = {}
        for r in await cur.fetchall():
            if r["kind"] != "raster" and not r["has_view"]:
                continue
            old = self._layers.get(r["id"])
            if (old is not None and old.current_version == r["current_version"]
                    and old.definition_sha == r["definition_sha"] and old.kind == r["kind"]):
                out[r["id"]] = old
                continue
            try:
                out[r["id"]] = (_raster(r) if r["kind"] == "raster"
                                else await self._describe(conn, r))
            except ValidationError as exc:
                # a definition stored by an older release (e.g. before `metadata` was
                # required): the layer is left out, not every request failed
                log.error("layer %s: its stored definition is not valid any more (%d "
                          "problems, first: %s); run `gis layers` to store the current "
                          "definition files", r["id"], exc.error_count(),
                          exc.errors()[0]["msg"])
        return out

    async def _describe(self, conn: AsyncConnection, r: dict) -> LayerInfo:
        layer = LayerDef.model_validate(r["definition"])
        cur = await conn.execute(
            "SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type "
            "FROM pg_attribute a WHERE a.attrelid = to_regclass(format('data.%%I', %s::text)) "
            "AND a.attnum > 0 AND NOT a.attisdropped", (r["id"],))
        rows = await cur.fetchall()
        mercator = any(c["name"] == "geom_3857" for c in rows)
        curve = any(c["name"] == "_sfc" for c in rows)
        labelled = any(c["name"] == "label_3857" for c in rows)
        present = {c["name"]: c["type"] for c in rows if c["name"] not in HIDDEN_COLUMNS}
        columns = _columns(layer, present)
        temporal = None
        tf = layer.time_field
        if tf and tf in columns:
            cur = await conn.execute(sql.SQL(
                "SELECT min({0})::text AS lo, max({0})::text AS hi FROM {1}").format(
                sql.Identifier(tf), sql.Identifier("data", r["id"])))
            t = await cur.fetchone()
            temporal = [t["lo"], t["hi"]]
        return _info(r, layer, geometry_type=r["geometry_type"],
                     feature_count=r["feature_count"], columns=columns, temporal=temporal,
                     mercator=mercator, labelled=labelled,
                     sfc_pad=r["sfc_pad"] if curve else None,
                     sfc_every=r["sfc_every"] if curve else None)


_LAYERS_SQL = (
    "SELECT l.*, coalesce(l.definition->>'kind', 'vector') AS kind, "
    "to_regclass(format('data.%I', l.id)) IS NOT NULL AS has_view, "
    + "".join(f"v.{c} AS lineage_{c}, " for c in LINEAGE_COLUMNS) + "v.sfc_pad, v.sfc_every, "
    + "(SELECT min(f.finished_at) FROM spp.layer_versions f WHERE f.layer_id = l.id AND "
    "f.status IN ('current', 'superseded', 'rolled_back')) AS lineage_first_loaded_at "
    "FROM spp.layers l LEFT JOIN spp.layer_versions v ON v.layer_id = l.id "
    "AND v.version = l.current_version WHERE l.current_version IS NOT NULL ORDER BY l.id")


def _raster(r: dict) -> LayerInfo:
    return _info(r, RasterLayerDef.model_validate(r["definition"]), geometry_type="Raster",
                 feature_count=None, kind="raster")


def _info(r: dict, layer, **kw) -> LayerInfo:
    """The catalog entry of a spp.layers row (fields common to every kind) and ``kw``."""
    return LayerInfo(
        id=r["id"], title_vi=r["title_vi"], title_en=r["title_en"],
        description_vi=r["description_vi"], description_en=r["description_en"],
        owner_vi=r["owner_vi"], owner_en=r["owner_en"], owner_code=layer.owner_code,
        licence=r["licence"], keywords=list(r["keywords"] or []),
        access_level=r["access_level"], departments=list(r["departments"] or []),
        definition=layer, bbox=r["bbox"], current_version=r["current_version"],
        definition_sha=r["definition_sha"], updated_at=r["updated_at"],
        lineage=Lineage(**{k.removeprefix("lineage_"): v for k, v in r.items()
                           if k.startswith("lineage_")}), **kw)
