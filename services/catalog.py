"""What the services know about each loaded layer, cached per (current version, definition).

One short query reads ``spp.layers`` at most once per ``ttl`` seconds; a layer whose
current_version or definition changed gets its view's columns read again. Requests therefore
cost one SQL round trip for their data, and a new load shows within ``ttl`` seconds.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime

from psycopg import AsyncConnection, sql

from gis.layerdef import LayerDef

# SQL type of the view column -> field type of the layer-definition vocabulary
_PG_TO_FIELD = {"text": "string", "bigint": "integer", "integer": "integer",
                "double precision": "number", "boolean": "boolean", "date": "date",
                "timestamp with time zone": "datetime"}
HIDDEN_COLUMNS = {"fid", "geom", "geom_3857", "extra", "source_row"}  # never properties


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

    @property
    def time_field(self) -> str | None:
        tf = self.definition.time_field
        return tf if tf and tf in self.columns else None


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


class CachedLayers:
    """Layers read from spp.layers by ``_refresh`` at most once per ``ttl`` seconds."""

    def __init__(self, ttl: float = 1.0):
        self.ttl = ttl
        self._layers: dict[str, LayerInfo] = {}
        self._read_at = -1e9
        self._lock = asyncio.Lock()

    def last_read(self) -> dict[str, LayerInfo]:
        """The layers of the last read, however old."""
        return self._layers

    def fresh(self) -> dict[str, LayerInfo] | None:
        """The layers if read less than ``ttl`` seconds ago (no connection needed), else None."""
        return self._layers if time.monotonic() - self._read_at <= self.ttl else None

    async def _cached(self, conn: AsyncConnection) -> dict[str, LayerInfo]:
        if time.monotonic() - self._read_at > self.ttl:
            async with self._lock:
                if time.monotonic() - self._read_at > self.ttl:
                    self._layers = await self._refresh(conn)
                    self._read_at = time.monotonic()
        return self._layers

    async def _refresh(self, conn: AsyncConnection) -> dict[str, LayerInfo]:
        raise NotImplementedError


class Catalog(CachedLayers):
    async def layers(self, conn: AsyncConnection) -> dict[str, LayerInfo]:
        return await self._cached(conn)

    async def _refresh(self, conn: AsyncConnection) -> dict[str, LayerInfo]:
        cur = await conn.execute(
            "SELECT l.*, to_regclass(format('data.%I', l.id)) IS NOT NULL AS has_view "
            "FROM spp.layers l WHERE l.current_version IS NOT NULL ORDER BY l.id")
        rows = await cur.fetchall()
        out: dict[str, LayerInfo] = {}
        for r in rows:
            if not r["has_view"]:
                continue
            old = self._layers.get(r["id"])
            if (old is not None and old.current_version == r["current_version"]
                    and old.definition_sha == r["definition_sha"]):
                out[r["id"]] = old
                continue
            out[r["id"]] = await self._describe(conn, r)
        return out

    async def _describe(self, conn: AsyncConnection, r: dict) -> LayerInfo:
        layer = LayerDef.model_validate(r["definition"])
        cur = await conn.execute(
            "SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type "
            "FROM pg_attribute a WHERE a.attrelid = to_regclass(format('data.%%I', %s::text)) "
            "AND a.attnum > 0 AND NOT a.attisdropped", (r["id"],))
        rows = await cur.fetchall()
        mercator = any(c["name"] == "geom_3857" for c in rows)
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
        return LayerInfo(
            id=r["id"], title_vi=r["title_vi"], title_en=r["title_en"],
            description_vi=r["description_vi"], description_en=r["description_en"],
            owner_vi=r["owner_vi"], owner_en=r["owner_en"], owner_code=layer.owner_code,
            licence=r["licence"], keywords=list(r["keywords"] or []),
            access_level=r["access_level"], departments=list(r["departments"] or []),
            geometry_type=r["geometry_type"], definition=layer, bbox=r["bbox"],
            feature_count=r["feature_count"], current_version=r["current_version"],
            definition_sha=r["definition_sha"], updated_at=r["updated_at"], columns=columns,
            temporal=temporal, mercator=mercator)
