"""Request telemetry: a request id on every request and response, one JSON log line per
request, Prometheus metrics (requests by route and status, latency histograms, database pool,
tile cache, layers' feature counts and load durations).

With several worker processes (`gis serve --workers N`) prometheus-client's multiprocess mode
is used: `gis serve` sets PROMETHEUS_MULTIPROC_DIR before the workers start, so /metrics adds
up every worker's counters whichever worker answers.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import time
import uuid

import orjson
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

log = logging.getLogger("spp.access")
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
_GOOD_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")
_ITEMS = re.compile(r"^/ogc/collections/[^/]+/items$")  # served by the hot path, not a route
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

REQUESTS = Counter("spp_http_requests_total", "HTTP requests answered",
                   ["route", "method", "status"])
LATENCY = Histogram("spp_http_request_duration_seconds", "Time to the end of the response",
                    ["route"], buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30))
TILE_CACHE = Counter("spp_tile_cache_total", "Vector tile disk cache look-ups", ["result"])
_mode = {"multiprocess_mode": "mostrecent"} if MULTIPROCESS else {}
POOL = Gauge("spp_db_pool_connections", "Web database pool connections", ["state"], **_mode)
FEATURES = Gauge("spp_layer_features", "Features in the current version", ["layer"], **_mode)
VERSION = Gauge("spp_layer_version", "Current version number", ["layer"], **_mode)
LOAD_SECONDS = Gauge("spp_layer_load_seconds", "Duration of the load that made the current "
                     "version", ["layer"], **_mode)


def route_of(scope) -> str:
    """The route template (bounded label values: a hostile path is 'unmatched')."""
    route = scope.get("route")
    if route is not None and getattr(route, "path", None):
        return route.path
    if _ITEMS.match(scope.get("path", "")):
        return "/ogc/collections/{collectionId}/items"
    return "unmatched"


class Telemetry:
    """Outermost ASGI layer: request id, access log line, request metrics."""

    def __init__(self, app, access_log: bool = True):
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = next((v for k, v in scope.get("headers", ()) if k == b"x-request-id"), b"")
        rid = given.decode() if _GOOD_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 0

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()),
                                      (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_of(scope)
            REQUESTS.labels(route, scope["method"], str(status or 500)).inc()
            LATENCY.labels(route).observe(seconds)
            if self.access_log:
                log.info("request", extra={"http": {
                    "method": scope["method"], "path": scope["path"], "route": route,
                    "status": status, "ms": round(seconds * 1000, 2),
                    "client": (scope.get("client") or ("", 0))[0]}})
            request_id.reset(token)


async def observe_state(app) -> None:
    """Gauges read at scrape time: pool use, layers' feature counts and last load duration."""
    pool = getattr(app.state, "pool", None)
    if pool is not None:
        stats = pool.get_stats()
        POOL.labels("size").set(stats.get("pool_size", 0))
        POOL.labels("available").set(stats.get("pool_available", 0))
        POOL.labels("waiting").set(stats.get("requests_waiting", 0))
        try:
            async with pool.connection(timeout=2) as conn:
                cur = await conn.execute(
                    "SELECT l.id, l.current_version, l.feature_count, extract(epoch FROM "
                    "v.finished_at - v.started_at) AS seconds FROM spp.layers l LEFT JOIN "
                    "spp.layer_versions v ON v.layer_id = l.id AND v.version = "
                    "l.current_version WHERE l.current_version IS NOT NULL")
                for r in await cur.fetchall():
                    VERSION.labels(r["id"]).set(r["current_version"])
                    if r["feature_count"] is not None:  # raster layers have none
                        FEATURES.labels(r["id"]).set(r["feature_count"])
                    if r["seconds"] is not None:
                        LOAD_SECONDS.labels(r["id"]).set(float(r["seconds"]))
        except Exception as exc:  # metrics still answer while the database is away
            logging.getLogger("services.telemetry").warning("layer gauges not read: %s", exc)


def exposition() -> tuple[bytes, str]:
    if MULTIPROCESS:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        doc = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{record.msecs:03.0f}Z",
               "level": record.levelname.lower(), "logger": record.name,
               "message": record.getMessage(), "pid": record.process}
        if rid := request_id.get():
            doc["request_id"] = rid
        if http := getattr(record, "http", None):
            doc.update(http)
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=str).decode()


JsonFormatter.converter = time.gmtime


def log_config(level: str = "WARNING", access_log: bool = True) -> dict:
    """logging.config.dictConfig for `gis serve` (uvicorn's loggers too): JSON to stderr."""
    handler = {"class": "logging.StreamHandler", "formatter": "json",
               "stream": "ext://sys.stderr"}
    quiet = {"handlers": ["json"], "level": level, "propagate": False}
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"json": handler},
        "root": {"handlers": ["json"], "level": level},
        "loggers": {"uvicorn": quiet, "uvicorn.error": {**quiet, "propagate": False},
                    "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
                    "spp.access": {"handlers": ["json"], "propagate": False,
                                   "level": "INFO" if access_log else "WARNING"}},
    }
