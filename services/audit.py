"""The audit log of reads: who read a layer that is not public, or personal fields.

A route that returns data says so with ``note_read`` (nothing is noted for the public). The
``AuditTrail`` middleware collects the notes of a request and, when its response is a 2xx,
queues one row per layer for ``spp.audit_log``; the ``AuditWriter`` writes the queue in
batches from a background task (started and stopped by the app's lifespan), so no request
waits for the audit write.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from contextvars import ContextVar
from urllib.parse import parse_qs

import orjson
import psycopg

from gis.settings import get_settings
from services.access import Principal
from services.catalog import LayerInfo
from services.dbstate import first_line, unreachable

log = logging.getLogger("services.audit")
EXPORT_FORMATS = {"csv", "gpkg", "shp", "zip", "mbtiles", "pmtiles"}

# (layer id, access level, personal fields) read during the current request
_reads: ContextVar[list | None] = ContextVar("spp_audit_reads", default=None)


def note_read(who: Principal, layer: LayerInfo, columns: Iterable[str] = ()) -> None:
    """Note that this request returns data of ``layer`` (its ``columns``) to ``who``."""
    sink = _reads.get()
    if sink is None or who.is_public:
        return
    cols = layer.columns
    personal = sorted({n.removesuffix("_codelist") for n in columns
                       if n in cols and cols[n].personal})
    if personal or layer.access_level != "public":
        sink.append((layer.id, layer.access_level, personal))


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
            self._task = None
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
                # one transaction: a batch that fails half-way is queued again whole, never
                # written twice
                async with conn.transaction(), conn.cursor() as cur:
                    await cur.executemany(
                        "INSERT INTO spp.audit_log (actor, role, action, layer_id, fields, "
                        "detail, client_addr) VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s)",
                        [(k[0], k[1], k[2], k[3], list(k[4]), orjson.dumps(d).decode(), k[5])
                         for k, d in merged.items()])
        except Exception:
            for r in rows:  # back into the queue for the next try
                self.put(r)
            raise


class AuditTrail:
    """ASGI middleware: the notes of each request, queued on ``writer`` after a 2xx."""

    def __init__(self, app, writer: AuditWriter):
        self.app = app
        self.writer = writer

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = 0

        async def send_status(msg):
            nonlocal status
            if msg["type"] == "http.response.start":
                status = msg["status"]
            await send(msg)

        reads: list = []
        token = _reads.set(reads)
        try:
            await self.app(scope, receive, send_status)
        finally:
            _reads.reset(token)
        if reads and 200 <= status < 300:
            self._queue(scope, reads)

    def _queue(self, scope, reads: list) -> None:
        who: Principal | None = (scope.get("state") or {}).get("spp_principal")
        if who is None or who.is_public:
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        query = parse_qs((scope.get("query_string") or b"").decode("latin-1"))
        fmt = (query.get("f") or [""])[0].lower()
        action = "export" if fmt in EXPORT_FORMATS or "/export" in scope["path"] else "read"
        detail = {"path": scope["path"]}
        if scope.get("query_string"):
            detail["query"] = scope["query_string"].decode("latin-1")[:1000]
        for layer_id, level, fields in dict.fromkeys((r[0], r[1], tuple(r[2])) for r in reads):
            self.writer.put((who.name, who.role, action, layer_id, list(fields),
                             {**detail, "access": level}, client))
