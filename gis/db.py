"""Database access: which server to use, connections, and the schema migrations."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from gis.embedded import EmbeddedCluster
from gis.errors import SetupError
from gis.settings import get_settings

MIGRATION_LOCK = 732_100_001  # pg_advisory_lock key: one migrator at a time


def embedded_cluster() -> EmbeddedCluster:
    s = get_settings()
    return EmbeddedCluster(s.embedded_dir, s.pg_port, s.pg_bindir)


@lru_cache(maxsize=1)
def database_url() -> str:
    """DATABASE_URL when set; otherwise the embedded cluster, started on demand."""
    url = get_settings().database_url
    if url:
        return url.replace("postgresql+psycopg://", "postgresql://")
    return embedded_cluster().up()


def connect(autocommit: bool = True, **kwargs) -> psycopg.Connection:
    try:
        return psycopg.connect(database_url(), autocommit=autocommit, row_factory=dict_row,
                               **kwargs)
    except psycopg.OperationalError as exc:
        raise SetupError(f"Cannot connect to the database ({safe_url(database_url())}): "
                         f"{str(exc).strip()}") from exc


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and ":" in url.split("@")[0].split("//")[-1]:
        scheme, rest = url.split("//", 1)
        creds, host = rest.split("@", 1)
        return f"{scheme}//{creds.split(':')[0]}:***@{host}"
    return url


# -- migrations -------------------------------------------------------------------------
# Migrations renamed after release (old name -> new name; the content is unchanged): two
# files were numbered 0004.
RENAMED = {"0004_search_key_unaccent.sql": "0006_search_key_unaccent.sql"}


def _migration_files() -> list[tuple[str, str]]:
    pkg = resources.files("gis.migrations")
    files = sorted(p for p in pkg.iterdir() if p.name.endswith(".sql"))
    if not files:  # a broken installation: never report an unmigrated database as ready
        raise SetupError(f"no migration files (*.sql) in {pkg}: the installation is "
                         "incomplete; reinstall the spp-cantho package")
    return [(p.name, p.read_text(encoding="utf-8")) for p in files]


def migration_names() -> list[str]:
    return [name for name, _ in _migration_files()]


def migrate(conn: psycopg.Connection | None = None) -> list[str]:
    """Apply pending SQL migrations in order; idempotent. Returns the names applied."""
    own = conn is None
    conn = conn or connect(autocommit=True)
    applied: list[str] = []
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute("CREATE SCHEMA IF NOT EXISTS spp")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS spp.schema_migrations ("
            " name text PRIMARY KEY, sha256 text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for old, new in RENAMED.items():  # a file renamed after databases applied it
            conn.execute("UPDATE spp.schema_migrations SET name = %s WHERE name = %s AND NOT "
                         "EXISTS (SELECT 1 FROM spp.schema_migrations WHERE name = %s)",
                         (new, old, new))
        done = {r["name"]: r["sha256"]
                for r in conn.execute("SELECT name, sha256 FROM spp.schema_migrations")}
        for name, sql in _migration_files():
            digest = hashlib.sha256(sql.encode()).hexdigest()
            if name in done:
                if done[name] != digest:
                    raise SetupError(f"Migration {name} changed after it was applied; "
                                     "add a new migration file instead of editing it.")
                continue
            with conn.transaction():
                conn.execute(sql)
                conn.execute("INSERT INTO spp.schema_migrations (name, sha256) VALUES (%s, %s)",
                             (name, digest))
            applied.append(name)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        if own:
            conn.close()
    return applied


def set_web_password(password: str) -> None:
    """The read-only web role's password (made by migration 0002 without one)."""
    with connect(autocommit=True) as conn:
        # a SCRAM verifier made here: the clear password never reaches the server's logs
        verifier = conn.pgconn.encrypt_password(password.encode(), b"spp_web",
                                                b"scram-sha-256").decode()
        conn.execute(sql.SQL("ALTER ROLE spp_web PASSWORD {}").format(sql.Literal(verifier)))


_ready = False


def ready_connection(autocommit: bool = True) -> psycopg.Connection:
    """A connection to a migrated database (migrations run once a process)."""
    global _ready
    if not _ready:
        migrate()
        _ready = True
    return connect(autocommit=autocommit)
