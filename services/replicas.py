"""Web reads on streaming replicas (``SPP_READ_DATABASE_URLS``), the primary as the fallback.

Each database gets its own psycopg pool, page connections and breaker (``services.dbstate``).
A request reads from the next replica, in turn, that is reachable and has replayed at least
the layer versions this process already serves and the newest any reachable replica has
(each layer's ``spp.layers.updated_at``, read from every replica once a second): so a load on
the primary is served once a replica has replayed it, and neither an ETag nor the data goes
back to an older version when requests move between replicas (a replica that replays a load
is noticed within a second; until then the others may still serve the version before).
A replica that stops is skipped within the request that finds it gone (its checkout fails
fast and the next one is tried); when no replica can serve, the primary does (the URL of
``SPP_WEB_DATABASE_URL``). Loads, migrations and the audit log always use the primary.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from services.dbstate import Breaker, DatabaseAway
from services.pages import PagePool
from services.pool import WebPool, make_pool, web_database_url

log = logging.getLogger("services.replicas")
REFRESH_S = 1.0


@dataclass
class Backend:
    name: str
    pool: WebPool
    pages: PagePool
    breaker: Breaker
    known: dict[str, datetime] = field(default_factory=dict)  # layer -> updated_at seen here

    @classmethod
    def make(cls, url: str, min_size: int) -> Backend:
        breaker = Breaker()
        parts = urlsplit(url)
        name = f"{parts.hostname}:{parts.port or 5432}{parts.path}"
        return cls(name, make_pool(min_size=min_size, url=url, breaker=breaker),
                   PagePool(url=url, breaker=breaker), breaker)

    def has(self, need: dict[str, datetime]) -> bool:
        return all((seen := self.known.get(k)) is not None and seen >= v
                   for k, v in need.items())


class ReadRouter:
    """What the services call ``app.state.pool`` (``connection()``) and ``app.state.pages``
    (``fetchrow()``): the same interface as one pool, spread over the databases."""

    def __init__(self, replica_urls: list[str], primary_url: str,
                 served: Callable[[], dict]):
        self.replicas = [Backend.make(u, min_size=2) for u in replica_urls]
        # with replicas the primary is only the fallback: no idle connections to it
        self.primary = Backend.make(primary_url, min_size=0 if self.replicas else 2)
        self.served = served  # the catalog's layers (LayerInfo by id) this process serves
        self._generation = 0  # counts the replica reads, part of the key of _ready
        self._ready: tuple[tuple, list[Backend]] = ((), [])
        self._turn = itertools.count()
        self._task: asyncio.Task | None = None

    @classmethod
    def from_settings(cls, served: Callable[[], dict]) -> ReadRouter:
        from gis.settings import get_settings

        urls = [u.strip() for u in (get_settings().read_database_urls or "").split(",")
                if u.strip()]
        return cls(urls, web_database_url(), served)

    @property
    def backends(self) -> list[Backend]:
        return [*self.replicas, self.primary]

    async def open(self) -> None:
        # one database: wait for it (a start-up failure is then clear). Replicas: never wait,
        # so a replica down at start-up is skipped like one that stops later (its breaker
        # trips on the first failed connect, the refresh keeps probing it)
        for b in self.backends:
            await b.pool.open(wait=not self.replicas)
        if self.replicas:
            await self._refresh_all()
            self._task = asyncio.get_running_loop().create_task(self._refresh_loop(),
                                                                name="spp-replicas")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for b in self.backends:
            await b.pages.close()
            await b.pool.close()

    def candidates(self) -> list[Backend]:
        """Replicas that can serve, in turn, then the primary."""
        if not self.replicas:  # one database: nothing to choose
            return [self.primary]
        ready = self._eligible()
        if ready:
            k = next(self._turn) % len(ready)
            ready = ready[k:] + ready[:k]
        return [*ready, self.primary]

    def _eligible(self) -> list[Backend]:
        """Reachable replicas that have the versions served and the newest any replica has;
        worked out again only when the catalog, a replica read or a breaker changed."""
        served = self.served()
        key = (id(served), self._generation, tuple(b.breaker.away for b in self.replicas))
        if key == self._ready[0]:
            return self._ready[1]
        need = {k: v.updated_at for k, v in served.items() if v.updated_at is not None}
        live = [b for b in self.replicas if not b.breaker.away]
        for b in live:  # the newest any replica has replayed: none serves older data after
            for k, v in b.known.items():
                if k not in need or v > need[k]:
                    need[k] = v
        ready = [b for b in live if b.has(need)]
        self._ready = (key, ready)
        return ready

    @contextlib.asynccontextmanager
    async def connection(self, timeout: float | None = None):
        away: DatabaseAway | None = None
        for b in self.candidates():
            stack = contextlib.AsyncExitStack()
            try:
                conn = await stack.enter_async_context(b.pool.connection(timeout))
            except DatabaseAway as exc:  # gone since the last look: the next one
                away = exc
                continue
            async with stack:
                yield conn
            return
        raise away or DatabaseAway()

    async def fetchrow(self, text: str, values: list):
        away: DatabaseAway | None = None
        for b in self.candidates():
            try:
                return await b.pages.fetchrow(text, values)
            except DatabaseAway as exc:  # a read-only query: safe to run on the next one
                away = exc
        raise away or DatabaseAway()

    def get_stats(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for b in self.backends:
            for k, v in b.pool.get_stats().items():
                total[k] = total.get(k, 0) + v
        return total

    def states(self) -> list[dict]:
        """For /ready: each database's role, reachability and layers seen."""
        return [{"database": b.name, "role": "replica" if b in self.replicas else "primary",
                 "reachable": not b.breaker.away, "layers": len(b.known),
                 "newest_load": max(b.known.values()).isoformat() if b.known else None}
                for b in self.backends]

    async def _refresh_all(self) -> None:
        await asyncio.gather(*(self._refresh(b) for b in self.replicas))
        self._generation += 1

    async def _refresh(self, b: Backend) -> None:
        try:
            async with b.pool.connection(timeout=REFRESH_S * 2) as conn:
                cur = await conn.execute("SELECT id, updated_at FROM spp.layers "
                                         "WHERE current_version IS NOT NULL")
                b.known = {r["id"]: r["updated_at"] for r in await cur.fetchall()}
        except Exception as exc:  # its breaker says it is away; requests skip it
            log.debug("replica %s not read: %s", b.name, exc)

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_S)
            await self._refresh_all()
