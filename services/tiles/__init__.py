"""OGC API - Tiles (vector tiles made by PostGIS) and OGC API - Styles (MapLibre, SLD, QML)."""

from fastapi import APIRouter

from services.tiles import api, styles

router = APIRouter()
router.include_router(api.router)
router.include_router(styles.router)
