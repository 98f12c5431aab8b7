"""The web service: request limits, rate limits, the audit trail and the tile and items hot paths in
front of the FastAPI application (OGC API - Features under /ogc, Tiles, Styles, planning,
rasters, the web map)."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

from services import ops, submissions
from services.audit import AuditTrail, AuditWriter
from services.catalog import Catalog
from services.datasets import router as datasets_router
from services.fonts import router as fonts_router
from services.limits import RequestLimits
from services.lists import router as lists_router
from services.ogc import changes, collections, edits, errors, items, landing, openapi, records
from services.ogc.cqlworker import PARSER
from services.ogc.hotpath import GZIP_LEVEL, ItemsHotPath
from services.opendata.api import router as opendata_router
from services.planning import router as planning_router
from services.raster import router as raster_router
from services.ratelimit import RateLimit
from services.replicas import ReadRouter
from services.telemetry import ACCESS_LOG, Telemetry
from services.tiles import router as tiles_router
from services.tiles.hotpath import TilesHotPath


class Service:
    """What uvicorn serves: telemetry (request id, access log, metrics), request limits (URL,
    body, time to first byte), rate limits, the audit trail (reads noted by the routes, queued
    after a 2xx), then the vector tile and GeoJSON items hot paths, then the FastAPI
    application with its own middlewares (gzip, errors) and routes. The hot paths sit outside
    FastAPI's middleware stack on purpose: they are the requests every client repeats, and each
    layer of that stack costs Python time on them."""

    def __init__(self, app: FastAPI):
        self.app = app
        self.state = app.state
        from gis.settings import get_settings

        inner = AuditTrail(TilesHotPath(ItemsHotPath(app), app), app.state.audit)
        self._asgi = Telemetry(RequestLimits(RateLimit(inner)),
                               access_log=get_settings().access_log)

    async def __call__(self, scope, receive, send):
        await self._asgi(scope, receive, send)


def create_app(catalog_ttl: float = 1.0) -> Service:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from gis.db import ready_connection
        from gis.settings import get_settings

        if get_settings().migrate_on_start:
            ready_connection().close()  # migrations, once, before serving
        # the pool and the page connections of every request: the replicas when
        # SPP_READ_DATABASE_URLS names some, else the one database (services.replicas)
        router = ReadRouter.from_settings(lambda: app.state.catalog.last_read())
        hooks = None
        try:
            await router.open()
            app.state.pool = app.state.pages = router
            await asyncio.to_thread(PARSER.warm)  # the CQL2 parser's child process
            app.state.audit.start()
            if get_settings().hooks_worker:  # webhook deliveries (one process delivers)
                from gis.hooks.worker import start_background
                from services.pool import web_database_url

                hooks = start_background(web_database_url, "gis serve")
            yield
        finally:
            if hooks is not None:
                hooks[1].set()
                await asyncio.to_thread(hooks[0].join, 15)
            await app.state.audit.stop()  # the rows queued so far are written
            await router.close()
            ACCESS_LOG.flush()

    app = FastAPI(title="SPP Cần Thơ", lifespan=lifespan, openapi_url=None, docs_url=None,
                  redoc_url=None)
    app.state.catalog = Catalog(ttl=catalog_ttl)
    app.state.openapi30 = None
    app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=GZIP_LEVEL)
    errors.install(app)
    from gis.settings import get_settings
    from services.pool import web_database_url

    app.state.audit = AuditWriter(web_database_url, get_settings().audit_flush_s)
    # records before collections and items: /ogc/collections/<catalogue id>/... are its own
    for module in (ops, landing, records, collections, items, edits, changes, openapi,
                   submissions):
        app.include_router(module.router)
    app.include_router(tiles_router)  # OGC API - Tiles and Styles
    app.include_router(planning_router)  # /api/... planning information, / the web map
    app.include_router(fonts_router)  # /fonts/...: glyphs of the map's labels
    app.include_router(raster_router)  # raster tiles, coverages, values, zonal statistics
    app.include_router(opendata_router)  # DCAT-AP catalogue, ISO 19139 records
    app.include_router(datasets_router)  # /datasets: the open data pages
    app.include_router(lists_router)  # /lists: list pages (the investment project catalogue)
    assets = openapi.swagger_dir()
    if assets is not None:
        app.mount("/ogc/docs/assets", StaticFiles(directory=str(assets)), name="swagger")

    return Service(app)
