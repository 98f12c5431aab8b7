"""A project-local PostgreSQL/PostGIS cluster, used when DATABASE_URL is not set.

The cluster is made from the system's PostgreSQL and PostGIS binaries (Debian packages), lives
in ``$SPP_DATA_DIR/pg`` and listens on 127.0.0.1 on a free port remembered in ``pg/port``.
PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` system user.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import shutil
import socket
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gis.errors import SetupError

DB_NAME = "spp"
DB_USER = "spp"
INSTALL_HINT = (
    "Install PostgreSQL with PostGIS and GDAL first, e.g. on Debian/Ubuntu:\n"
    "  sudo apt-get install postgresql postgresql-postgis gdal-bin\n"
    "or set DATABASE_URL to an existing PostGIS server "
    "(cài PostgreSQL + PostGIS hoặc đặt DATABASE_URL)."
)


@dataclass(frozen=True)
class ClusterStatus:
    running: bool
    data_dir: Path
    port: int | None
    url: str | None
    version: str | None


def _find_bindir(override: Path | None = None) -> Path:
    """The newest PostgreSQL bin directory whose share directory has PostGIS."""
    if override is not None:
        if (Path(override) / "postgres").exists() and (Path(override) / "initdb").exists():
            return Path(override)
        raise SetupError(f"SPP_PG_BINDIR={override} has no PostgreSQL server binaries "
                         f"(postgres, initdb).\n{INSTALL_HINT}")
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    found_pg = False
    for bindir in candidates:
        if not (bindir / "postgres").exists():
            continue
        found_pg = True
        share = Path("/usr/share/postgresql") / bindir.parent.name / "extension"
        if (share / "postgis.control").exists():
            return bindir
    on_path = shutil.which("pg_ctl")
    if on_path and not candidates:
        return Path(on_path).resolve().parent
    what = "PostGIS is not installed for PostgreSQL" if found_pg else "PostgreSQL is not installed"
    raise SetupError(f"{what}: the embedded database cannot start.\n{INSTALL_HINT}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_is_free(port: int) -> bool:
    """Whether PostgreSQL could listen on ``port``: bound the way it binds (SO_REUSEADDR), so
    the TIME_WAIT sockets left by the connections of a cluster just stopped do not count and
    a restart keeps its port (services still connected to it reconnect)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class EmbeddedCluster:
    def __init__(self, base_dir: Path, port: int = 0, bindir: Path | None = None):
        self.base_dir = Path(base_dir).resolve()
        self.data_dir = self.base_dir / "data"
        self.run_dir = self.base_dir / "run"
        self.log_file = self.base_dir / "postgres.log"
        self.port_file = self.base_dir / "port"
        self.requested_port = port
        self.bindir_override = bindir
        self._as_postgres = os.geteuid() == 0

    # -- process helpers ------------------------------------------------------------------
    def _cmd(self, name: str, *args: str) -> list[str]:
        exe = str(_find_bindir(self.bindir_override) / name)
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_postgres else []
        return [*prefix, exe, *args]

    def _run(self, name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(self._cmd(name, *args), capture_output=True, text=True)
        if check and proc.returncode != 0:
            log_tail = ""
            if self.log_file.exists():
                log_tail = "\n".join(self.log_file.read_text(errors="replace").splitlines()[-15:])
            raise SetupError(
                f"`{name} {' '.join(args)}` failed (exit {proc.returncode}):\n"
                f"{proc.stderr.strip() or proc.stdout.strip()}\n{log_tail}".rstrip()
            )
        return proc

    def _owner_fix(self, path: Path) -> None:
        if self._as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(path, pw.pw_uid, pw.pw_gid)

    @contextmanager
    def _lock(self):
        self.base_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
        with open(self.base_dir / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # -- state ----------------------------------------------------------------------------
    @property
    def port(self) -> int | None:
        try:
            return int(self.port_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    @property
    def url(self) -> str | None:
        port = self.port
        return f"postgresql://{DB_USER}@127.0.0.1:{port}/{DB_NAME}" if port else None

    def is_running(self) -> bool:
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        return self._run("pg_ctl", "status", "-D", str(self.data_dir), check=False).returncode == 0

    def status(self) -> ClusterStatus:
        version = None
        if (self.data_dir / "PG_VERSION").exists():
            version = (self.data_dir / "PG_VERSION").read_text().strip()
        running = self.is_running()
        return ClusterStatus(running, self.data_dir, self.port, self.url if running else None,
                             version)

    # -- lifecycle ------------------------------------------------------------------------
    def up(self) -> str:
        """Initialise (first time) and start the cluster; return its URL. Idempotent."""
        _find_bindir(self.bindir_override)  # fail first, and clearly, without binaries
        if self._as_postgres:
            try:
                pwd.getpwnam("postgres")
            except KeyError as exc:
                raise SetupError(
                    "Running as root needs the `postgres` system user (created by the "
                    "postgresql package) to own the embedded cluster.\n" + INSTALL_HINT
                ) from exc
        with self._lock():
            if not (self.data_dir / "PG_VERSION").exists():
                self._init()
            if not self.is_running():
                self._start()
            self._ensure_database()
        return self.url

    def _init(self) -> None:
        for d in (self.base_dir, self.run_dir):
            d.mkdir(parents=True, exist_ok=True)
            os.chmod(d, 0o755)
            self._owner_fix(d)
        if self._as_postgres and subprocess.run(
                ["runuser", "-u", "postgres", "--", "test", "-w", str(self.base_dir)]).returncode:
            raise SetupError(
                f"The postgres system user cannot reach {self.base_dir} (a parent folder is "
                "private). Set SPP_DATA_DIR to a folder whose parents are world-traversable.")
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)  # a half-made data dir from an interrupted initdb
        self.data_dir.mkdir(mode=0o700)
        self._owner_fix(self.data_dir)
        self._run("initdb", "-D", str(self.data_dir), "-U", DB_USER, "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8")
        conf = self.data_dir / "postgresql.auto.conf"
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.run_dir}'",
            "shared_buffers": "'256MB'",
            # each `gis serve` worker keeps its psycopg pool and its asyncpg page/tile
            # connections (services.pages) open: room for several servers and workers on one
            # cluster (the test suite runs a dozen servers side by side) beside loads
            "max_connections": "300",
            "work_mem": "'32MB'",
            "maintenance_work_mem": "'256MB'",
            "max_wal_size": "'2GB'",
            "jit": "off",
            "logging_collector": "off",
        }
        with open(conf, "a") as fh:
            fh.writelines(f"{k} = {v}\n" for k, v in settings.items())

    def _start(self) -> None:
        port = self.port or self.requested_port
        if not port or not _port_is_free(port):
            port = self.requested_port if self.requested_port and _port_is_free(
                self.requested_port) else _free_port()
        self.port_file.write_text(f"{port}\n")
        if not self.log_file.exists():
            self.log_file.touch()
        self._owner_fix(self.log_file)
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data_dir),
                  "-l", str(self.log_file), "-o", f"-p {port}")

    def _ensure_database(self) -> None:
        port = str(self.port)
        common = ["-h", "127.0.0.1", "-p", port, "-U", DB_USER, "-X", "-q", "-t", "-A"]
        exists = self._run("psql", *common, "-d", "postgres", "-c",
                           f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}'")
        if exists.stdout.strip() != "1":
            self._run("createdb", "-h", "127.0.0.1", "-p", port, "-U", DB_USER, DB_NAME)
        self._run("psql", *common, "-d", DB_NAME, "-c", "CREATE EXTENSION IF NOT EXISTS postgis")

    def down(self) -> bool:
        """Stop the cluster; False when it was not running."""
        with self._lock():
            if not self.is_running():
                return False
            self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data_dir))
            return True

    def destroy(self) -> None:
        """Stop and delete the cluster (tests use this for their throwaway cluster)."""
        self.down()
        shutil.rmtree(self.base_dir, ignore_errors=True)
