"""The outer guard of every HTTP request (one ASGI middleware) and the audit writer.

In order, before the application sees a request:
- URL (path + query) longer than ``SPP_MAX_URL_LENGTH`` → 414; a body announced or streamed
  beyond ``SPP_MAX_BODY_BYTES`` → 413;
- rate limits, token buckets in this process: a request presenting a credential seen valid
  lately (``services.auth.known_valid``) draws from that credential's bucket
  (``SPP_RATE_KEY_*``); any other request, anonymous or with a credential not (yet) known
  valid, on any route, from its client address's (``SPP_RATE_IP_*``), so made-up keys do not
  escape the address limit. The address is the TCP peer unless ``SPP_TRUSTED_PROXIES`` names
  it (``gis serve``). An empty bucket → 429 with Retry-After;
- the time to the response's first byte is bounded by ``SPP_REQUEST_TIMEOUT_S`` → 503 (a
  streamed download then continues, each query bounded by the statement timeout).
After the response: reads of internal/restricted layers and of personal fields that
``services.access.visible_columns`` noted are queued for ``spp.audit_log`` and written in
batches by a background task, so no request waits for the audit write. Public reads note
nothing.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from contextlib import asynccontextmanager
from urllib.parse import parse_qs

import orjson
import psycopg
from fastapi import FastAPI

from gis.settings import get_settings
from services.access import Principal, audit_reads
from services.auth import credential_hash, known_valid, presented
from services.dbstate import first_line, unreachable
from services.ogc.errors import OGCError, error_response, ogc_error_response

log = logging.getLogger("services.guard")
EXPORT_FORMATS = {"csv", "gpkg", "shp", "zip", "mbtiles", "pmtiles"}


class TokenBuckets:
    """Per-key token buckets: ``rate`` tokens a second up to ``burst``; 0 = unlimited."""

    def __init__(self, rate: float, burst: int, max_keys: int = 100_000):
        self.rate = rate
        self.burst = max(1, burst)
        self.max_keys = max_keys
        self._state: dict[str, tuple[float, float]] = {}

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def take(self, key: str, now: float | None = None) -> float:
        """0 when a token was taken, else the seconds until one is available."""
        if not self.enabled:
            return 0.0
        now = time.monotonic() if now is None else now
        tokens, last = self._state.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1:
            self._state[key] = (tokens - 1, now)
            if len(self._state) > self.max_keys:
                self._prune(now)
            return 0.0
        self._state[key] = (tokens, now)
        return (1 - tokens) / self.rate

    def peek(self, key: str, now: float | None = None) -> float:
        """Like ``take`` without taking: seconds until a token is available."""
        if not self.enabled or key not in self._state:
            return 0.0
        now = time.monotonic() if now is None else now
        tokens, last = self._state[key]
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def _prune(self, now: float) -> None:
        full = [k for k, (t, last) in self._state.items()
                if t + (now - last) * self.rate >= self.burst]
        for k in full:
            del self._state[k]
        if len(self._state) > self.max_keys:  # still too many: forget the oldest half
            for k in sorted(self._state, key=lambda k: self._state[k][1])[: self.max_keys // 2]:
                del self._state[k]


class AuditWriter:
    """Queue of audit rows, written in batches (identical rows of a batch counted as one)."""

    def __init__(self, url_fn, flush_s: float, max_queue: int = 50_000):
        self._url_fn = url_fn
        self.flush_s = flush_s
        self.queue: asyncio.Queue = asyncio.Queue(maxsize=max_queue)
        self._task: asyncio.Task | None = None
        self.dropped = 0

    def put(self, row: tuple) -> None:
        try:
            self.queue.put_nowait(row)
        except asyncio.QueueFull:
            self.dropped += 1
            if self.dropped % 1000 == 1:
                log.error("audit queue full: %d audit rows dropped", self.dropped)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="spp-audit")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self._flush_all()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.flush_s)
            try:
                await self._flush_all()
            except Exception as exc:  # keep serving, retry next time
                if unreachable(exc):  # the database is away: no traceback a second
                    log.warning("audit write failed (%s); retrying", first_line(exc))
                else:
                    log.exception("audit write failed; retrying")

    async def _flush_all(self) -> None:
        rows = []
        while not self.queue.empty():
            rows.append(self.queue.get_nowait())
        if not rows:
            return
        merged: dict[tuple, dict] = {}
        for actor, role, action, layer_id, fields, detail, client in rows:
            key = (actor, role, action, layer_id, tuple(fields), client, detail.get("path"))
            if key in merged:
                merged[key]["count"] += 1
            else:
                merged[key] = {**detail, "count": 1}
        try:
            async with await psycopg.AsyncConnection.connect(
                    self._url_fn(), autocommit=True,
                    connect_timeout=max(1, round(get_settings().db_connect_timeout_s)),
                    options="-c application_name=spp-audit") as conn:
                async with conn.cursor() as cur:
                    await cur.executemany(
                        "INSERT INTO spp.audit_log (actor, role, action, layer_id, fields, "
                        "detail, client_addr) VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s)",
                        [(k[0], k[1], k[2], k[3], list(k[4]), orjson.dumps(d).decode(), k[5])
                         for k, d in merged.items()])
        except Exception:
            for r in rows:  # back into the queue for the next try
                self.put(r)
            raise


class Guard:
    def __init__(self, app, writer: AuditWriter):
        self.app = app
        s = get_settings()
        self.s = s
        self.ip = TokenBuckets(s.rate_ip_per_s, s.rate_ip_burst)
        self.keys = TokenBuckets(s.rate_key_per_s, s.rate_key_burst)
        self.writer = writer

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        s = self.s
        client = (scope.get("client") or ("unknown", 0))[0]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        # An answer sent before the whole body was read closes the connection: otherwise
        # the server would go on reading (and discarding) an unwanted, maybe huge, body
        # to find the next request on it
        body_done = headers.get("content-length", "0") == "0" and (
            "transfer-encoding" not in headers)
        plain_send = send

        async def send(msg):
            if msg["type"] == "http.response.start" and not body_done:
                msg = {**msg, "headers": [*msg.get("headers", ()), (b"connection", b"close")]}
            await plain_send(msg)

        url_len = len(scope.get("raw_path") or scope["path"].encode()) + len(
            scope.get("query_string") or b"")
        if url_len > s.max_url_length:
            return await error_response(414, "URITooLong", f"the URL has {url_len} bytes; at "
                                        f"most {s.max_url_length} are accepted (use fewer or "
                                        "shorter parameters)")(scope, receive, send)
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return await error_response(400, "InvalidRequest", "Content-Length is not a "
                                            "number")(scope, receive, send)
            if int(length) > s.max_body_bytes:
                return await self._too_large(scope, receive, send)
        cred = presented(headers.get("authorization"), headers.get("x-api-key"))
        h = credential_hash(cred) if cred else None
        if h is not None and known_valid(h):
            wait = self.keys.take("k:" + h[:32])
        else:  # anonymous, or a credential not (yet) seen valid: the address pays
            wait = self.ip.take(client)
        if wait:
            retry = max(1, math.ceil(wait))
            resp = error_response(429, "TooManyRequests",
                                  f"rate limit reached; retry after {retry} s")
            resp.headers["Retry-After"] = str(retry)
            return await resp(scope, receive, send)

        received = 0

        async def limited_receive():
            nonlocal received, body_done
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > s.max_body_bytes:  # a chunked body has no length to check
                    raise BodyTooLarge(s.max_body_bytes)
                body_done = not msg.get("more_body", False)
            return msg

        status = 0
        started = False
        reads: list = []
        token = audit_reads.set(reads)
        try:
            async with asyncio.timeout(s.request_timeout_s or None) as deadline:
                async def timed_send(msg):
                    nonlocal status, started
                    if msg["type"] == "http.response.start":
                        started = True
                        status = msg["status"]
                        deadline.reschedule(None)  # the body may stream for longer
                    await send(msg)

                await self.app(scope, limited_receive, timed_send)
        except TimeoutError:
            if started:
                raise
            status = 503
            await error_response(503, "Timeout", f"the request took longer than "
                                 f"{s.request_timeout_s:g} s; narrow it with bbox, filter or "
                                 "limit")(scope, receive, send)
        except BodyTooLarge:  # raised outside FastAPI's handlers (which answer it alike)
            if started:
                raise
            status = 413
            await self._too_large(scope, receive, send)
        finally:
            audit_reads.reset(token)
        if reads and 200 <= status < 300:
            self._audit(scope, client, reads)

    async def _too_large(self, scope, receive, send):
        await ogc_error_response(BodyTooLarge(self.s.max_body_bytes))(scope, receive, send)

    def _audit(self, scope, client: str, reads: list) -> None:
        who: Principal | None = (scope.get("state") or {}).get("spp_principal")
        if who is None or who.is_public:
            return
        query = parse_qs((scope.get("query_string") or b"").decode("latin-1"))
        fmt = (query.get("f") or [""])[0].lower()
        action = "export" if fmt in EXPORT_FORMATS or "/export" in scope["path"] else "read"
        detail = {"path": scope["path"]}
        if scope.get("query_string"):
            detail["query"] = scope["query_string"].decode("latin-1")[:1000]
        for layer_id, level, fields in dict.fromkeys(
                (r[0], r[1], tuple(r[2])) for r in reads):
            self.writer.put((who.name, who.role, action, layer_id, list(fields),
                             {**detail, "access": level}, client))


class BodyTooLarge(OGCError):
    """Raised by the guard's ``receive`` wherever a body is read: an OGCError, so FastAPI's
    handler answers it as a 413 (not a logged 500) when a route is reading the body."""

    status = 413
    code = "PayloadTooLarge"

    def __init__(self, limit: int):
        super().__init__(f"the request body is larger than {limit} bytes")


def install(app: FastAPI) -> None:
    """The audit writer and its lifecycle; ``services.app.Service`` puts the ``Guard`` in front
    of everything with it (``app.state.audit``)."""
    from services.pool import web_database_url

    writer = AuditWriter(web_database_url, get_settings().audit_flush_s)
    app.state.audit = writer

    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a):
        async with inner(a) as state:
            writer.start()
            try:
                yield state
            finally:
                await writer.stop()

    app.router.lifespan_context = lifespan
