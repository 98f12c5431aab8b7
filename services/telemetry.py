"""Request telemetry: a request id on every request and response, one JSON log line per
request, Prometheus metrics (requests by route and status, latency histograms, database pool,
tile cache, layers' feature counts and load durations).

With several worker processes (`gis serve --workers N`) prometheus-client's multiprocess mode
is used: `gis serve` sets PROMETHEUS_MULTIPROC_DIR before the workers start, so /metrics adds
up every worker's counters whichever worker answers.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import itertools
import logging
import os
import re
import sys
import time
from functools import lru_cache

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


def _new_ids() -> None:
    """Request ids this process makes: a random prefix of its own and a counter (32 hex
    digits, unique across workers and restarts; uuid4 read the OS's random source per request).
    The process id is kept too (os.getpid is a system call)."""
    global _ID_PREFIX, _ID_COUNTER, _PID
    _ID_PREFIX, _ID_COUNTER, _PID = os.urandom(8).hex(), itertools.count(), os.getpid()


_new_ids()
os.register_at_fork(after_in_child=_new_ids)


@lru_cache(maxsize=1)
def utc_second(second: int) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` of a Unix second, UTC: formatted once per second however many
    requests ask (the access log's lines, items pages' timeStamp)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_ID_COUNTER) & 0xFFFFFFFFFFFFFFFF:016x}"


class AccessLog:
    """The access log: one JSON line a request, the fields ``JsonFormatter`` writes (time,
    level, logger, message, pid, request_id, then the request's), to stderr in batches: at
    most FLUSH_S after a request or when BATCH_BYTES wait, as nginx's ``access_log buffer=
    flush=`` do. Through the logging module (a record, the caller's frame, a lock and one
    write(2) a line) it cost ~6 % of a busy worker's time."""

    FLUSH_S = 0.5
    BATCH_BYTES = 64 * 1024

    def __init__(self):
        self._lines: list[bytes] = []
        self._size = 0
        self._timer: asyncio.TimerHandle | None = None
        # the lifespan's end flushes too: uvicorn re-raises SIGTERM after its shutdown, and
        # the signal's default action skips atexit
        atexit.register(self.flush)

    def write(self, rid: str, http: dict) -> None:
        now = time.time()
        second = int(now)
        doc = {"time": f"{utc_second(second)}.{int((now - second) * 1000):03d}Z", "level": "info",
               "logger": "spp.access", "message": "request", "pid": _PID,
               "request_id": rid, **http}
        line = orjson.dumps(doc, default=str, option=orjson.OPT_APPEND_NEWLINE)
        self._lines.append(line)
        self._size += len(line)
        if self._size >= self.BATCH_BYTES:
            self.flush()
        elif self._timer is None:
            try:
                self._timer = asyncio.get_running_loop().call_later(self.FLUSH_S, self.flush)
            except RuntimeError:  # no event loop: written now
                self.flush()

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._lines:
            return
        data, self._lines, self._size = b"".join(self._lines), [], 0
        stream = sys.stderr  # the process's at this moment
        try:
            if hasattr(stream, "buffer"):
                stream.flush()  # what was written as text before goes first
                stream = stream.buffer
                stream.write(data)
            else:
                stream.write(data.decode())
            stream.flush()
        except (OSError, ValueError):  # stderr closed or gone: the lines are dropped
            pass


ACCESS_LOG = AccessLog()


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
        self.access_log = ACCESS_LOG if access_log else None
        self._metrics: dict[tuple, tuple] = {}  # (route, method, status): the two children

    def _observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        children = self._metrics.get(key)
        if children is None:  # label values are bounded: route templates, HTTP's methods
            children = self._metrics[key] = (REQUESTS.labels(route, method, str(status)),
                                             LATENCY.labels(route))
        children[0].inc()
        children[1].observe(seconds)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = next((v for k, v in scope.get("headers", ()) if k == b"x-request-id"), b"")
        rid = given.decode() if _GOOD_ID.match(given) else new_request_id()
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
            self._observe(route, scope["method"], status or 500, seconds)
            if self.access_log is not None:
                self.access_log.write(rid, {
                    "method": scope["method"], "path": scope["path"], "route": route,
                    "status": status, "ms": round(seconds * 1000, 2),
                    "client": (scope.get("client") or ("", 0))[0]})
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


def log_config(level: str = "WARNING") -> dict:
    """logging.config.dictConfig for `gis serve` (uvicorn's loggers too): JSON to stderr. The
    access log is not a logger: ``AccessLog`` writes it (SPP_ACCESS_LOG turns it off)."""
    handler = {"class": "logging.StreamHandler", "formatter": "json",
               "stream": "ext://sys.stderr"}
    quiet = {"handlers": ["json"], "level": level, "propagate": False}
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"json": handler},
        "root": {"handlers": ["json"], "level": level},
        "loggers": {"uvicorn": quiet, "uvicorn.error": {**quiet, "propagate": False},
                    "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False}},
    }
