"""The async PostgreSQL connection pool of the web services (psycopg 3 + psycopg_pool).

Connections are read-only, carry the statement timeout of the settings and prepare every
statement shape on its second use, so the hot items query runs as a prepared statement.
"""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from gis import db
from gis.settings import get_settings


async def _configure(conn: AsyncConnection) -> None:
    conn.prepare_threshold = 1


def make_pool(min_size: int = 2, max_size: int = 10) -> AsyncConnectionPool:
    timeout = int(get_settings().statement_timeout_ms)
    options = (f"-c statement_timeout={timeout} -c default_transaction_read_only=on "
               "-c application_name=spp-services")
    return AsyncConnectionPool(
        db.database_url(), min_size=min_size, max_size=max_size, open=False,
        kwargs={"autocommit": True, "row_factory": dict_row, "options": options},
        configure=_configure, name="spp-services")
