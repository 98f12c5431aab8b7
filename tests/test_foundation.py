"""The platform foundation: embedded PostGIS, migrations, catalog, `gis` commands."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import ROOT, run_gis


def test_migrations_are_idempotent_and_create_catalog(conn):
    from gis import db

    assert db.migrate() == []  # already applied by the session: nothing new
    tables = {r["table_name"] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'spp'")}
    assert {"layers", "layer_versions", "audit_log", "schema_migrations"} <= tables
    version = conn.execute("SELECT postgis_lib_version() AS v").fetchone()["v"]
    assert version.split(".")[0] == "3"


def test_gis_layers_lists_every_layer_file(database_url):
    proc = run_gis("layers", env={"COLUMNS": "250"}, check=True)
    files = sorted(p.stem for p in (ROOT / "layers").glob("*.yaml"))
    assert files, "layers/ must hold layer definitions"
    for layer_id in files:
        assert layer_id in proc.stdout
    assert "not loaded" in proc.stdout or "features" in proc.stdout


def test_catalog_rows_follow_definitions(conn, database_url):
    run_gis("layers", check=True)
    row = conn.execute("SELECT * FROM spp.layers WHERE id = 'cadastral_parcels'").fetchone()
    assert row["title_vi"] == "Thửa đất địa chính"
    assert row["domain"] == "land"
    personal = [f["name"] for f in row["definition"]["fields"] if f["personal"]]
    assert "owner_name" in personal


@pytest.fixture
def bad_layers_dir(tmp_path):
    shutil.copy(ROOT / "layers" / "cadastral_parcels.yaml", tmp_path)
    (tmp_path / "roads_bad.yaml").write_text(
        "id: roads_bad\n"
        "title: {vi: Đường, en: Roads}\n"
        "domain: traffic\n"  # line 3: not a valid domain
        "owner: {vi: Sở Xây dựng, en: Department of Construction}\n"
        "owner_code: sxd\n"
        "description: {vi: Tim đường., en: Road centre lines.}\n"
        "keywords: [đường, roads]\n"
        "metadata: {topic: transportation, update_frequency: quarterly, lineage: "
        "{vi: Số hóa., en: Digitised.}, contact: {name: {vi: Sở Xây dựng, en: Department "
        "of Construction}, email: sxd@cantho.gov.vn}}\n"
        "geometry: MultiLineString\n"
        "fields: []\n",
        encoding="utf-8",
    )
    return tmp_path


def test_bad_layer_file_gives_file_line_and_problem(database_url, bad_layers_dir):
    proc = run_gis("layers", env={"SPP_LAYERS_DIR": str(bad_layers_dir), "COLUMNS": "200"})
    assert proc.returncode != 0
    err = " ".join(proc.stderr.split())
    assert "roads_bad.yaml:3" in err
    assert "domain:" in err and "Input should be" in err
    assert "Traceback" not in proc.stderr


def test_db_with_database_url_uses_that_server(database_url, tmp_path):
    env = {"DATABASE_URL": database_url, "SPP_DATA_DIR": str(tmp_path / "unused")}
    up = run_gis("db", "up", env=env, check=True)
    assert "DATABASE_URL" in up.stdout
    status = run_gis("db", "status", env=env, check=True)
    assert "reachable" in status.stdout and "POSTGIS" in status.stdout
    down = run_gis("db", "down", env=env, check=True)
    assert "not ours to stop" in down.stdout
    assert not (tmp_path / "unused" / "pg").exists(), "no embedded cluster may be made"


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="embedded cluster test")
def test_embedded_cluster_up_status_down(open_tmp):
    tmp_path = open_tmp
    env = {"SPP_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": ""}
    env_clean = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env_clean.update(env)
    env_clean.pop("DATABASE_URL")
    try:
        up = run_gis("db", "up", env=env_clean, check=True)
        assert "embedded cluster" in up.stdout and "0001_catalog.sql" in up.stdout
        again = run_gis("db", "up", env=env_clean, check=True)
        assert "Applied migrations" not in again.stdout  # idempotent
        status = run_gis("db", "status", env=env_clean, check=True)
        assert "running" in status.stdout
        assert str(tmp_path / "data" / "pg" / "data") in status.stdout.replace("\n", "")
        run_gis("db", "down", env=env_clean, check=True)
        stopped = run_gis("db", "status", env=env_clean)
        assert stopped.returncode == 1 and "stopped" in stopped.stdout
    finally:
        run_gis("db", "down", env=env_clean)


def test_missing_postgres_binaries_message(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"SPP_DATA_DIR": str(tmp_path / "d"), "SPP_PG_BINDIR": str(tmp_path)})
    proc = run_gis("db", "up", env=env)
    assert proc.returncode != 0
    assert "apt-get install postgresql postgresql-postgis" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_every_setting_is_documented_in_the_readme():
    from gis.settings import Settings

    readme = (ROOT / "README.md").read_text()
    missing = [f"SPP_{n.upper()}" for n in Settings.model_fields
               if f"`SPP_{n.upper()}`" not in readme and n != "database_url"]
    assert not missing, f"README settings table lacks {missing}"


def test_a_renamed_migration_is_not_applied_twice(own_conn):
    """A database migrated before 0004_search_key_unaccent became 0006: migrate() records the
    new name and applies nothing."""
    from gis.db import RENAMED, migrate

    for old, new in RENAMED.items():
        own_conn.execute("UPDATE spp.schema_migrations SET name = %s WHERE name = %s",
                         (old, new))
    assert migrate(own_conn) == []
    names = {r["name"] for r in own_conn.execute("SELECT name FROM spp.schema_migrations")}
    assert set(RENAMED.values()) <= names and not set(RENAMED) & names
