"""Loaded raster layers as ``services.catalog.LayerInfo`` (so ``services.access`` applies to
them unchanged), read from ``spp.layers`` at most once per second.

A raster layer's current file is ``$SPP_DATA_DIR/rasters/<id>/v<current_version>.tif``
(gis.raster.store); the web role reads only ``spp.layers``, never the version rows.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from psycopg import AsyncConnection

from gis.raster.store import absolute, relative_path
from gis.rasterdef import RasterLayerDef
from services.catalog import LayerInfo


class RasterCatalog:
    def __init__(self, ttl: float = 1.0):
        self.ttl = ttl
        self._layers: dict[str, LayerInfo] = {}
        self._read_at = -1e9
        self._lock = asyncio.Lock()

    async def rasters(self, conn: AsyncConnection) -> dict[str, LayerInfo]:
        if time.monotonic() - self._read_at > self.ttl:
            async with self._lock:
                if time.monotonic() - self._read_at > self.ttl:
                    self._layers = await self._refresh(conn)
                    self._read_at = time.monotonic()
        return self._layers

    async def _refresh(self, conn: AsyncConnection) -> dict[str, LayerInfo]:
        cur = await conn.execute(
            "SELECT * FROM spp.layers WHERE definition->>'kind' = 'raster' "
            "AND current_version IS NOT NULL ORDER BY id")
        out: dict[str, LayerInfo] = {}
        for r in await cur.fetchall():
            old = self._layers.get(r["id"])
            if (old is not None and old.current_version == r["current_version"]
                    and old.definition_sha == r["definition_sha"]):
                out[r["id"]] = old
                continue
            layer = RasterLayerDef.model_validate(r["definition"])
            out[r["id"]] = LayerInfo(
                id=r["id"], title_vi=r["title_vi"], title_en=r["title_en"],
                description_vi=r["description_vi"], description_en=r["description_en"],
                owner_vi=r["owner_vi"], owner_en=r["owner_en"], owner_code=layer.owner_code,
                licence=r["licence"], keywords=list(r["keywords"] or []),
                access_level=r["access_level"], departments=list(r["departments"] or []),
                geometry_type="Raster", definition=layer, bbox=r["bbox"], feature_count=None,
                current_version=r["current_version"], definition_sha=r["definition_sha"],
                updated_at=r["updated_at"])
        return out

    @staticmethod
    def path(info: LayerInfo) -> Path:
        return absolute(relative_path(info.id, info.current_version))


CATALOG = RasterCatalog()
