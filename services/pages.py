"""The connections that run GeoJSON page queries: a few asyncpg connections on a plain queue.

The page query is the one every map client and OGC API client repeats. Through psycopg's async
execute and psycopg_pool's checkout it cost about 120 µs of CPU a query on this kind of
machine, through asyncpg on a queue about 45 µs (bench/README.md, "OGC API - Features"), and
the server's Python time is what separates it from PostgreSQL's own speed. Everything else
keeps using the psycopg pool (services.pool). Same role (spp_web), read-only, same statement
timeout. Text values come back as bytes. A connection that breaks is dropped; a query that
finds its connection closed by a database restart is run once more on a new one, and when
that cannot connect either the database is away (``services.dbstate``): 503 at once.
"""

from __future__ import annotations

import asyncio

import asyncpg

from gis.settings import get_settings
from services.dbstate import BREAKER, Breaker, DatabaseAway, unreachable
from services.pool import web_database_url


class PagePool:
    def __init__(self, size: int = 10, url: str | None = None, breaker: Breaker = BREAKER):
        self.size = size
        self.url = url  # None: the web role's URL (services.pool.web_database_url)
        self.breaker = breaker
        self._idle: asyncio.Queue[asyncpg.Connection | None] | None = None

    def _queue(self) -> asyncio.Queue:
        if self._idle is None:  # slots; None = not connected yet (opened on first use)
            self._idle = asyncio.Queue()
            for _ in range(self.size):
                self._idle.put_nowait(None)
        return self._idle

    async def _connect(self) -> asyncpg.Connection:
        s = get_settings()
        conn = await asyncpg.connect(self.url or web_database_url(), timeout=s.db_connect_timeout_s,
                                     server_settings={
            "statement_timeout": str(int(s.statement_timeout_ms)),
            "default_transaction_read_only": "on",
            # a page reads about `limit` rows: starting parallel workers for it (a plan
            # PostgreSQL may pick for a long curve range) costs far more than it saves
            "max_parallel_workers_per_gather": "0",
            "application_name": "spp-pages", "search_path": "public,spp"})
        # text arrives as the UTF-8 bytes PostgreSQL sent: a page's ~50 kB of features go
        # into the response as they are, never decoded to str and encoded back
        await conn.set_type_codec("text", schema="pg_catalog", encoder=str.encode,
                                  decoder=bytes, format="binary")
        return conn

    async def fetchrow(self, text: str, values: list):
        self.breaker.admit()
        idle = self._queue()
        conn = await idle.get()
        try:
            for retry in (True, False):
                reused = conn is not None
                try:
                    if conn is None or conn.is_closed():
                        conn = None
                        conn = await self._connect()
                    row = await conn.fetchrow(text, *values)
                    self.breaker.up()
                    return row
                except BaseException as exc:
                    # an error of the query (timeout, bad value) leaves the connection usable;
                    # a cancelled request or a broken link may leave it mid-protocol: drop it
                    lost = unreachable(exc)
                    if conn is not None and (lost or not isinstance(exc, asyncpg.PostgresError)):
                        conn.terminate()
                        conn = None
                    if not lost:
                        raise
                    if retry and reused:  # a connection a restart closed: once on a new one
                        continue
                    self.breaker.down(exc)
                    raise DatabaseAway() from None
        finally:
            idle.put_nowait(conn if conn is not None and not conn.is_closed() else None)

    async def close(self) -> None:
        if self._idle is None:
            return
        while not self._idle.empty():
            conn = self._idle.get_nowait()
            if conn is not None:
                await conn.close(timeout=5)
        self._idle = None
