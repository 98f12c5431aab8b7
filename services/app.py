"""The FastAPI application: OGC API - Features under /ogc, gzip, OGC-style errors."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

from services import guard
from services.catalog import Catalog
from services.ogc import collections, errors, items, landing, openapi
from services.planning import router as planning_router
from services.pool import make_pool
from services.raster import router as raster_router
from services.tiles import router as tiles_router


def create_app(catalog_ttl: float = 1.0) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from gis.db import ready_connection

        ready_connection().close()  # migrations, once, before serving
        app.state.pool = make_pool()
        await app.state.pool.open(wait=True)
        try:
            yield
        finally:
            await app.state.pool.close()

    app = FastAPI(title="SPP Cần Thơ", lifespan=lifespan, openapi_url=None, docs_url=None,
                  redoc_url=None)
    app.state.catalog = Catalog(ttl=catalog_ttl)
    app.state.openapi30 = None
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    errors.install(app)
    guard.install(app)  # credentials (401), rate/size/time limits, audit log
    for module in (landing, collections, items, openapi):
        app.include_router(module.router)
    app.include_router(tiles_router)  # OGC API - Tiles and Styles
    app.include_router(planning_router)  # /api/... planning information, / the web map
    app.include_router(raster_router)  # raster tiles, coverages, values, zonal statistics
    assets = openapi.swagger_dir()
    if assets is not None:
        app.mount("/ogc/docs/assets", StaticFiles(directory=str(assets)), name="swagger")

    return app
