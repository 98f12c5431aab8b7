"""Whether the database is away, so that requests answer 503 at once instead of queueing
behind connection attempts that cannot succeed.

One breaker per database a process reads from (``services.replicas``), shared by its psycopg
pool (``services.pool``) and page connections (``services.pages``). A connect that fails
trips it; while it is tripped, one request a second goes through as the probe (with short
connect and checkout timeouts) and every other request gets ``DatabaseAway``: 503 with
Retry-After. The first request that gets an answer from the database closes it again.
"""

from __future__ import annotations

import logging
import time

import asyncpg
import psycopg

from services.ogc.errors import OGCError

log = logging.getLogger("services.dbstate")
RECHECK_S = 1.0


class DatabaseAway(OGCError):
    status = 503
    code = "ServiceUnavailable"

    def __init__(self):
        super().__init__("the database is unavailable just now; retry in a few seconds")

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(max(1, round(2 * RECHECK_S)))}


class Breaker:
    def __init__(self, recheck_s: float = RECHECK_S):
        self.recheck_s = recheck_s
        self.away_since: float | None = None
        self._next_probe = 0.0

    @property
    def away(self) -> bool:
        return self.away_since is not None

    def admit(self) -> bool:
        """Before a request uses the database: raise ``DatabaseAway`` while it is away, except
        for one probe a second; True when this request is that probe."""
        if self.away_since is None:
            return False
        now = time.monotonic()
        if now < self._next_probe:
            raise DatabaseAway()
        self._next_probe = now + self.recheck_s
        return True

    def down(self, exc: BaseException) -> None:
        if self.away_since is None:  # once tripped, only admit() schedules the probes
            self.away_since = time.monotonic()
            self._next_probe = self.away_since + self.recheck_s
            log.warning("database unreachable (%s); answering 503 and rechecking every "
                        "%g s", first_line(exc), self.recheck_s)

    def up(self) -> None:
        if self.away_since is not None:
            log.warning("database back after %.1f s", time.monotonic() - self.away_since)
            self.away_since = None


BREAKER = Breaker()


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def unreachable(exc: BaseException) -> bool:
    """A lost, refused or timed-out connection, or a server shutting down: not the query's
    fault. A statement timeout (57014) or a bad value is not one."""
    state = getattr(exc, "sqlstate", None) or ""
    if state.startswith("08") or state in ("57P01", "57P02", "57P03"):
        return True
    if isinstance(exc, psycopg.OperationalError):
        return not state  # connection failures and the pool's timeout carry no SQLSTATE
    # asyncpg: a connection the server closed under it (InternalClientError is its "cannot
    # switch to state" after an admin shutdown), or a refused/timed-out connect
    return isinstance(exc, OSError | asyncpg.ConnectionDoesNotExistError
                      | asyncpg.InternalClientError | asyncpg.PostgresConnectionError)
