"""The async PostgreSQL connection pool of the web services (psycopg 3 + psycopg_pool).

Connections use the read-only database role ``spp_web`` (``web_database_url``), are read-only,
carry the statement timeout of the settings and prepare every statement shape on its second
use, so the hot items query runs as a prepared statement.
"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit, urlunsplit

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from gis import db
from gis.settings import get_settings


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


def make_pool(min_size: int = 2, max_size: int = 10) -> AsyncConnectionPool:
    timeout = int(get_settings().statement_timeout_ms)
    # search_path: extensions made by migrations as the owner role "spp" land in its "$user"
    # schema spp (pg_trgm's similarity); spp_web has no schema of its own
    options = (f"-c statement_timeout={timeout} -c default_transaction_read_only=on "
               "-c application_name=spp-services -c search_path=public,spp")
    return AsyncConnectionPool(
        web_database_url(), min_size=min_size, max_size=max_size, open=False,
        kwargs={"autocommit": True, "row_factory": dict_row, "options": options},
        configure=_configure, name="spp-services")
