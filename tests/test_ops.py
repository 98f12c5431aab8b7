"""Operations: /health, /ready with its reasons, Prometheus /metrics, request ids and JSON
logs, against a real `gis serve` (also with two worker processes) on a real PostGIS."""

from __future__ import annotations

import json
import math
import re

import httpx
import pytest

from tests.conftest import run_gis, serve


@pytest.fixture(scope="module")
def demo_db(own_database):
    run_gis("demo", "--no-serve", check=True)
    return own_database


def _tile(conn) -> str:
    p = conn.execute("SELECT ST_X(c) AS lon, ST_Y(c) AS lat FROM (SELECT ST_PointOnSurface(geom)"
                     " AS c FROM data.cadastral_parcels ORDER BY fid LIMIT 1) s").fetchone()
    z, n = 16, 2 ** 16
    x = int((p["lon"] + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(p["lat"]))) / math.pi) / 2 * n)
    return f"/ogc/collections/cadastral_parcels/tiles/WebMercatorQuad/{z}/{y}/{x}"


def _samples(text: str, name: str) -> dict[tuple, float]:
    """{(sorted label pairs): value} of one metric in the Prometheus text format."""
    out = {}
    for m in re.finditer(rf"^{name}\{{(.*?)\}} (\S+)$", text, re.M):
        labels = tuple(sorted(re.findall(r'(\w+)="([^"]*)"', m.group(1))))
        out[labels] = float(m.group(2))
    return out


def _log_lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def test_health_ready_metrics_and_request_ids(demo_db, own_conn, session_dir):
    log = session_dir / "ops_serve.log"
    with serve(demo_db, log, SPP_TILE_CACHE="1") as root:
        assert httpx.get(root + "/health").json() == {"status": "ok"}
        ready = httpx.get(root + "/ready")
        assert ready.status_code == 200 and ready.json()["problems"] == []

        items = "/ogc/collections/fire_hydrants/items"
        for _ in range(3):
            assert httpx.get(root + items).status_code == 200
        assert httpx.get(root + "/ogc/collections/no_such_layer").status_code == 404
        tile = _tile(own_conn)
        assert [httpx.get(root + tile).status_code for _ in range(2)] == [200, 200]

        mine = httpx.get(root + "/ogc", headers={"X-Request-ID": "planner-42.a"})
        assert mine.headers["x-request-id"] == "planner-42.a"
        hostile = httpx.get(root + "/ogc", headers={"X-Request-ID": "a\"b" * 40})
        made = hostile.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", made)

        text = httpx.get(root + "/metrics").text
        reqs = _samples(text, "spp_http_requests_total")
        assert reqs[(("method", "GET"), ("route", "/ogc/collections/{collectionId}/items"),
                     ("status", "200"))] == 3
        assert reqs[(("method", "GET"), ("route", "/ogc/collections/{collectionId}"),
                     ("status", "404"))] == 1
        assert _samples(text, "spp_http_request_duration_seconds_count")[
            (("route", "/ogc/collections/{collectionId}/items"),)] == 3
        cache = _samples(text, "spp_tile_cache_total")
        assert cache[(("result", "hit"),)] >= 1 and cache[(("result", "miss"),)] >= 1
        assert _samples(text, "spp_db_pool_connections")[(("state", "size"),)] >= 1
        features = _samples(text, "spp_layer_features")
        for r in own_conn.execute("SELECT id, feature_count FROM spp.layers "
                                  "WHERE feature_count IS NOT NULL"):
            assert features[(("layer", r["id"]),)] == r["feature_count"]
        assert all(v > 0 for v in _samples(text, "spp_layer_load_seconds").values())

    lines = _log_lines(log)
    mine_line = [d for d in lines if d.get("request_id") == "planner-42.a"]
    assert mine_line and mine_line[0]["status"] == 200 and mine_line[0]["path"] == "/ogc"
    assert any(d.get("request_id") == made for d in lines)
    assert not any("Traceback" in d.get("exception", "") for d in lines)


def test_ready_names_what_is_missing(demo_db, own_conn, session_dir):
    with serve(demo_db, session_dir / "ops_notready.log",
               SPP_LAYERS_DIR=str(session_dir / "no-layers-here")) as root:
        r = httpx.get(root + "/ready")
        assert r.status_code == 503 and r.headers["Retry-After"]
        assert "no-layers-here" in " ".join(r.json()["problems"])
        assert httpx.get(root + "/health").status_code == 200
    with serve(demo_db, session_dir / "ops_pending.log") as root:
        last = own_conn.execute("SELECT * FROM spp.schema_migrations ORDER BY name DESC "
                                "LIMIT 1").fetchone()
        own_conn.execute("DELETE FROM spp.schema_migrations WHERE name = %s", (last["name"],))
        try:
            r = httpx.get(root + "/ready")
        finally:
            own_conn.execute("INSERT INTO spp.schema_migrations VALUES (%s, %s, %s)",
                             (last["name"], last["sha256"], last["applied_at"]))
        assert r.status_code == 503
        assert last["name"] in r.json()["problems"][0] and "gis db migrate" in r.text


def test_two_workers_share_their_metrics(demo_db, session_dir):
    log = session_dir / "ops_workers.log"
    n = 60
    with serve(demo_db, log, args=("--workers", "2")) as root:
        for _ in range(n):  # a new connection each: the kernel spreads them over the workers
            assert httpx.get(root + "/ogc/conformance").status_code == 200
        text = httpx.get(root + "/metrics").text
    served = [d["pid"] for d in _log_lines(log) if d.get("path") == "/ogc/conformance"]
    assert len(set(served)) == 2 and len(served) >= n  # both workers served
    total = _samples(text, "spp_http_requests_total")[
        (("method", "GET"), ("route", "/ogc/conformance"), ("status", "200"))]
    assert total == len(served)  # every worker's count, whichever worker answered /metrics


def test_web_tier_runs_with_the_read_only_role_alone(demo_db, own_conn, session_dir):
    """As in docker/compose.yaml: `gis db migrate` (owner) sets spp_web's password; the web
    tier gets no owner URL (an unreachable one here: any use of it would fail) and serves."""
    mig = run_gis("db", "migrate", env={"SPP_WEB_DB_PASSWORD": "only-for-this-test"})
    assert mig.returncode == 0 and "spp_web" in mig.stdout, mig.stderr
    row = own_conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'spp_web'")
    assert row.fetchone()["rolpassword"].startswith("SCRAM-SHA-256$")  # a verifier, sent so
    with serve(demo_db, session_dir / "ops_webrole.log", SPP_MIGRATE_ON_START="false",
               DATABASE_URL="postgresql://spp@127.0.0.1:1/unreachable") as root:
        assert httpx.get(root + "/ready").json()["problems"] == []
        r = httpx.get(root + "/ogc/collections/fire_hydrants/items")
        assert r.status_code == 200 and r.json()["features"]
        assert httpx.get(root + "/api/search", params={"q": "Ninh Kiều"}).status_code == 200
