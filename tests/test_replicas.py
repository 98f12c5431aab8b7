"""Web reads on real PostgreSQL streaming replicas made by the test (pg_basebackup -R into
two more clusters): reads go to the replicas, a load on the primary is served once replayed,
ETags never go back when requests move between a replica that replays and one that lags, and a
replica that stops is skipped with no 5xx."""

from __future__ import annotations

import os
import time
from pathlib import Path

import geopandas as gpd
import httpx
import psycopg
import pytest
import shapely

from gis.embedded import EmbeddedCluster
from tests.conftest import run_gis, serve, web_role_url

ITEMS = "/ogc/collections/fire_hydrants/items"


def _hydrants(n: int, path: Path) -> Path:
    gdf = gpd.GeoDataFrame(
        {"MaTru": [f"TN-{i}" for i in range(n)], "LoaiTru": ["trụ nổi"] * n,
         "DuongKinh": [100] * n},
        geometry=[shapely.Point(105.78 + i / 1000, 10.03) for i in range(n)], crs="OGC:CRS84")
    gdf.to_file(path, driver="GeoJSON")
    return path


def _replica(primary: EmbeddedCluster, base: Path) -> EmbeddedCluster:
    replica = EmbeddedCluster(base)
    base.mkdir(mode=0o755)
    replica._owner_fix(base)
    primary._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "spp",
                 "-D", str(replica.data_dir), "-R", "-X", "stream", "-c", "fast")
    replica._start()  # a standby: nothing to initialise or create
    return replica


def _sql(url: str, query: str):
    with psycopg.connect(url, autocommit=True) as c:
        return c.execute(query).fetchall()


def _readers(url: str) -> int:
    return _sql(url, "SELECT count(*) FROM pg_stat_activity WHERE application_name IN "
                     "('spp-services', 'spp-pages') AND usename = 'spp_web'")[0][0]


@pytest.fixture(scope="module")
def clusters(session_dir):
    base = session_dir / "replicas"
    base.mkdir()
    os.chmod(base, 0o755)
    primary = EmbeddedCluster(base / "primary")
    url = primary.up()
    made = [primary]
    try:
        env = {"DATABASE_URL": url, "SPP_DATA_DIR": str(base / "data")}
        run_gis("db", "up", env=env, check=True)
        run_gis("load", str(_hydrants(2, base / "v1.geojson")), "--layer", "fire_hydrants",
                env=env, check=True)
        replicas = [_replica(primary, base / f"replica{i}") for i in (1, 2)]
        made += replicas
        yield {"primary": primary, "url": url, "env": env, "replicas": replicas, "base": base}
    finally:
        for c in reversed(made):
            c.destroy()


def test_reads_on_replicas_loads_replayed_etags_forward_and_failover(clusters):
    r1, r2 = clusters["replicas"]
    urls = [web_role_url(r.url) for r in (r1, r2)]
    log = clusters["base"] / "serve.log"
    with serve(clusters["url"], log, SPP_READ_DATABASE_URLS=",".join(urls),
               SPP_RATE_IP_PER_S="0", SPP_DATA_DIR=str(clusters["base"] / "data")) as root:
        for _ in range(20):
            r = httpx.get(root + ITEMS)
            assert r.status_code == 200 and r.json()["numberReturned"] == 2
        assert _readers(r1.url) > 0 and _readers(r2.url) > 0
        assert _readers(clusters["url"]) == 0  # the primary serves no reads
        ready = httpx.get(root + "/ready").json()
        assert [d["role"] for d in ready["databases"]] == ["replica", "replica", "primary"]

        # replica 2 lags (replay paused); a load on the primary reaches replica 1 only
        old = httpx.get(root + ITEMS).headers["etag"]
        _sql(r2.url, "SELECT pg_wal_replay_pause()")
        run_gis("load", str(_hydrants(3, clusters["base"] / "v2.geojson")), "--layer",
                "fire_hydrants", env=clusters["env"], check=True)
        seen, deadline = [], time.monotonic() + 30
        while time.monotonic() < deadline and (len(seen) < 40 or seen[-1][0] == old):
            r = httpx.get(root + ITEMS)
            assert r.status_code == 200, r.text
            seen.append((r.headers["etag"], r.json()["numberReturned"]))
        assert seen[-1][1] == 3, "the load was never served"
        assert {t for t, _ in seen} - {old}, "the ETag never changed"
        first_new = next(i for i, (t, _) in enumerate(seen) if t != old)
        # once the new version is served, no request gets the old ETag back, and the new
        # ETag always comes with the new data
        assert all(t != old for t, _ in seen[first_new:]), seen
        assert all(n == 3 for t, n in seen if t != old), seen
        new_tags = {t for t, _ in seen[first_new:]}
        for _ in range(30):
            r = httpx.get(root + ITEMS)
            assert r.json()["numberReturned"] == 3 and r.headers["etag"] in new_tags

        # replica 1 stops: replica 2 catches up and serves; no request sees a 5xx
        _sql(r2.url, "SELECT pg_wal_replay_resume()")
        r1.down()
        statuses = [httpx.get(root + ITEMS).status_code for _ in range(40)]
        assert set(statuses) == {200}, statuses
        assert httpx.get(root + ITEMS).json()["numberReturned"] == 3
        ready = httpx.get(root + "/ready").json()
        assert [d["reachable"] for d in ready["databases"]][:2] == [False, True]
    assert "Traceback" not in log.read_text()


def test_a_replica_down_at_start_up_is_skipped(clusters):
    """The first test stopped replica 1: a server started now still starts and serves."""
    r1, r2 = clusters["replicas"]
    assert not r1.is_running()
    urls = [web_role_url(f"postgresql://spp@127.0.0.1:{r1.port}/spp"), web_role_url(r2.url)]
    with serve(clusters["url"], clusters["base"] / "serve-down.log", SPP_READ_DATABASE_URLS=
               ",".join(urls), SPP_RATE_IP_PER_S="0",
               SPP_DATA_DIR=str(clusters["base"] / "data")) as root:
        statuses = [httpx.get(root + ITEMS).status_code for _ in range(20)]
        assert set(statuses) == {200}, statuses
        assert _readers(r2.url) > 0
        ready = httpx.get(root + "/ready").json()
        assert ready["status"] == "ready"
        assert [d["reachable"] for d in ready["databases"]] == [False, True, True]
