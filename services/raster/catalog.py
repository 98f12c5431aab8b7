"""Loaded raster layers as ``services.catalog.LayerInfo`` (so ``services.access`` applies to
them unchanged), read from ``spp.layers`` at most once per second.

A raster layer's current file is ``$SPP_DATA_DIR/rasters/<id>/v<current_version>.tif``
(gis.raster.store); the web role reads only ``spp.layers``, never the version rows.
"""

from __future__ import annotations

from pathlib import Path

from psycopg import AsyncConnection

from gis.layerdef import RasterLayerDef
from gis.raster.store import absolute, relative_path
from services.catalog import CachedLayers, LayerInfo


class RasterCatalog(CachedLayers):
    async def rasters(self, conn: AsyncConnection) -> dict[str, LayerInfo]:
        return await self._cached(conn)

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
