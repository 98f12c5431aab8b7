"""Test session set-up: a real PostGIS for every test.

With DATABASE_URL set, tests use that server (it must be a throwaway database). Otherwise the
session starts its own embedded cluster in a temporary folder and deletes it at the end.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
GIS = [sys.executable, "-m", "gis"]


def _clear_caches() -> None:
    from gis import db
    from gis.settings import get_settings

    get_settings.cache_clear()
    db.database_url.cache_clear()
    db._ready = False


@pytest.fixture(scope="session")
def session_dir():
    path = Path(tempfile.mkdtemp(prefix="spp-test-"))
    os.chmod(path, 0o755)  # the embedded cluster may run as the postgres user
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def database_url(session_dir):
    """URL of the test database, migrated."""
    from gis.embedded import EmbeddedCluster

    cluster = None
    url = os.environ.get("DATABASE_URL")
    os.environ["SPP_DATA_DIR"] = str(session_dir / "data")
    if not url:
        cluster = EmbeddedCluster(session_dir / "data" / "pg")
        url = cluster.up()
    _clear_caches()
    from gis import db

    assert db.database_url() == url
    db.migrate()
    yield url
    if cluster is not None:
        cluster.destroy()


@pytest.fixture(scope="module")
def own_database(database_url, request):
    """A fresh, migrated database on the session's server for one test module, used by its
    `gis` subprocesses (DATABASE_URL) and its `conn`: modules that replace shared layers
    (cadastral_parcels...) must not pull data from under the server fixtures of others."""
    import psycopg
    from psycopg.rows import dict_row

    from gis.db import migrate

    name = "spp_" + request.module.__name__.rsplit(".", 1)[-1]
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(database_url)._replace(path=f"/{name}"))
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as c:
        migrate(c)
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    yield url
    if previous is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = previous
    _clear_caches()  # a test that loaded in-process against this database cached its URL


@pytest.fixture
def own_conn(own_database):
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(own_database, autocommit=True, row_factory=dict_row) as c:
        yield c


@pytest.fixture
def open_tmp(session_dir, request):
    """A temporary folder the postgres system user can reach (pytest's tmp_path cannot)."""
    path = session_dir / request.node.name[:60]
    path.mkdir(mode=0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def conn(database_url):
    from gis import db

    with db.connect(autocommit=True) as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def web_role_url(database_url: str) -> str:
    """The same database as the read-only web role `spp_web` (migration 0002)."""
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(netloc="spp_web@" + parts.netloc.rsplit("@", 1)[-1]))


@contextmanager
def serve(database_url: str, log_path: Path, gis: list[str] | None = None,
          cwd: Path = ROOT, args: tuple[str, ...] = (), **settings: str):
    """A real `gis serve` on a free loopback port, its pool connected as the read-only web
    role; yields its root URL (http://127.0.0.1:PORT) and stops it afterwards. `gis` and
    `cwd`: another installation's command, run from another folder."""
    import httpx

    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url,
           "SPP_WEB_DATABASE_URL": web_role_url(database_url), **settings}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([*(gis or GIS), "serve", "--host", "127.0.0.1", "--port",
                                 str(port), *args], cwd=cwd, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        root = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        try:
            while True:
                if proc.poll() is not None:
                    raise AssertionError("gis serve exited: " + log_path.read_text())
                try:
                    httpx.get(root + "/ogc/conformance", timeout=2)  # any answer: it is up
                    break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError("gis serve did not answer within 60 s")
                time.sleep(0.2)
            yield root
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def run_gis(*args: str, env: dict | None = None, check: bool = False, timeout: int = 600):
    """Run the `gis` command line in a subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([*GIS, *args], capture_output=True, text=True, env=full_env,
                          cwd=ROOT, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"gis {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc
