"""The async PostgreSQL connection pool of the web services (psycopg 3 + psycopg_pool).

Connections use the read-only database role ``spp_web`` (``web_database_url``), are read-only,
carry the statement timeout of the settings and prepare every statement shape on its second
use, so the hot items query runs as a prepared statement.
"""

from __future__ import annotations

import sys
import time
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from gis import db
from gis.settings import get_settings
from services.dbstate import BREAKER, Breaker, DatabaseAway, unreachable


async def _configure(conn: AsyncConnection) -> None:
    conn.prepare_threshold = 1


WEB_ROLE = "spp_web"
_warned = False


def web_database_url() -> str:
    """The read-only role's URL: SPP_WEB_DATABASE_URL; else, for the embedded cluster (trust
    on 127.0.0.1), its URL with user spp_web; else DATABASE_URL itself, with a warning."""
    global _warned
    s = get_settings()
    if s.web_database_url:
        return s.web_database_url.replace("postgresql+psycopg://", "postgresql://")
    if s.database_url:
        if not _warned:
            _warned = True
            print(f"WARNING: SPP_WEB_DATABASE_URL is unset: the web services use DATABASE_URL "
                  f"({db._safe(db.database_url())}), a role that can write. Set "
                  f"SPP_WEB_DATABASE_URL to the read-only role {WEB_ROLE}.", file=sys.stderr,
                  flush=True)
        return db.database_url()
    parts = urlsplit(db.database_url())
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{WEB_ROLE}@{host}"))


class WebPool(AsyncConnectionPool):
    """psycopg's pool behind the database breaker (``services.dbstate``): while the database is
    away a checkout fails at once with 503 instead of waiting out the pool timeout; a
    failed connect trips the breaker (a connection lost in use only fails its own request); a
    request waiting for a connection gives up as soon as the breaker trips."""

    breaker = BREAKER  # one per database (services.replicas gives each replica its own)

    @asynccontextmanager
    async def connection(self, timeout: float | None = None):
        probe = self.breaker.admit()
        limit = get_settings().db_connect_timeout_s if probe else (timeout or self.timeout)
        conn = await self._checkout(limit, probe)
        try:
            async with conn:  # a pool's connection: given back, not closed
                yield conn
        except Exception as exc:
            # one connection lost in use (terminated by an administrator, cut) is this
            # request's 503; whether the database is away is for the next connect to tell
            # (a failed connect trips the breaker), so other requests are not refused for it
            if unreachable(exc):
                raise DatabaseAway() from exc
            raise
        finally:
            await self.putconn(conn)

    async def _checkout(self, limit: float, probe: bool):
        deadline = time.monotonic() + limit
        while True:  # in slices, to see the breaker trip while queued behind a dead database
            try:
                conn = await self.getconn(max(0.01, min(1.0, deadline - time.monotonic())))
                self.breaker.up()  # checked (check_connection) just now
                return conn
            except PoolTimeout as exc:
                if time.monotonic() >= deadline or self.breaker.away:
                    if self.breaker.away or probe:  # not merely a busy pool
                        self.breaker.down(exc)
                        raise DatabaseAway() from None
                    raise
            except Exception as exc:
                if unreachable(exc):
                    self.breaker.down(exc)
                    raise DatabaseAway() from None
                raise


def _connection_class(breaker: Breaker) -> type[AsyncConnection]:
    class _Connection(AsyncConnection):
        """The pool's connections: a failed connect (the pool's own, in the background) trips
        the breaker at once, so requests queued for a connection stop waiting for it."""

        @classmethod
        async def connect(cls, *args, **kwargs):
            try:
                return await super().connect(*args, **kwargs)
            except Exception as exc:
                if unreachable(exc):
                    breaker.down(exc)
                raise

    return _Connection


def make_pool(min_size: int = 2, max_size: int = 10, url: str | None = None,
              breaker: Breaker | None = None, name: str = "spp-services") -> WebPool:
    s = get_settings()
    timeout = int(s.statement_timeout_ms)
    # search_path: extensions made by migrations as the owner role "spp" land in its "$user"
    # schema spp (pg_trgm's similarity); spp_web has no schema of its own
    options = (f"-c statement_timeout={timeout} -c default_transaction_read_only=on "
               "-c application_name=spp-services -c search_path=public,spp")
    # check: a connection a database restart closed is noticed at checkout, not by a request;
    # a short reconnect_timeout: the pool's own reconnect attempts (which back off
    # exponentially) give up soon, and the next checkout starts a new one at once
    pool = WebPool(
        url or web_database_url(), min_size=min_size, max_size=max_size, open=False,
        kwargs={"autocommit": True, "row_factory": dict_row, "options": options,
                "connect_timeout": max(1, round(s.db_connect_timeout_s))},
        configure=_configure, check=AsyncConnectionPool.check_connection,
        connection_class=_connection_class(breaker or BREAKER),
        reconnect_timeout=max(1.0, s.db_connect_timeout_s), name=name)
    if breaker is not None:
        pool.breaker = breaker
    return pool
