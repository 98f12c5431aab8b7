"""A database restart under a running `gis serve`: requests during the outage get a 503 with
Retry-After (never a 500), and the service answers again by itself once the database is back,
on the same port (a cluster that was just stopped gets its port back)."""

from __future__ import annotations

import socket
import time

import geopandas as gpd
import httpx
import shapely

from gis.embedded import EmbeddedCluster, _port_is_free
from tests.builders import write
from tests.conftest import run_gis, serve

ITEMS = "/ogc/collections/fire_hydrants/items?limit=2"
LIST = "/ogc/collections"


def test_a_port_left_in_time_wait_is_free_for_postgres():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    accepted.close()  # the listening side closes first: its port is left in TIME_WAIT
    client.close()
    listener.close()
    assert _port_is_free(port)


def _status_until(url: str, wanted: int, seconds: float) -> list[int]:
    seen = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen.append(httpx.get(url, timeout=30).status_code)
        if seen[-1] == wanted:
            break
        time.sleep(0.3)
    return seen


def test_database_restart_is_a_503_then_recovers(session_dir):
    cluster = EmbeddedCluster(session_dir / "outage" / "pg")
    url = cluster.up()
    try:
        env = {"DATABASE_URL": url}
        hydrants = gpd.GeoDataFrame(
            {"MaTru": ["TN-1", "TN-2"], "LoaiTru": ["trụ nổi", "trụ âm"],
             "DuongKinh": [100, 125], "ViTri": ["a", "b"]},
            geometry=[shapely.Point(105.78, 10.03), shapely.Point(105.79, 10.04)],
            crs="OGC:CRS84")
        source = write(hydrants, session_dir / "outage" / "tru_nuoc.geojson")
        run_gis("load", str(source), "--layer", "fire_hydrants", env=env, check=True)
        with serve(url, session_dir / "outage" / "serve.log") as root:
            assert httpx.get(root + ITEMS, timeout=30).json()["numberReturned"] == 2
            port = cluster.port
            cluster.down()
            for path in (ITEMS, LIST, ITEMS):
                r = httpx.get(root + path, timeout=30)
                if path == LIST and r.status_code == 200:
                    continue  # answered from the catalog read less than a second ago
                assert r.status_code == 503, (path, r.text)
                assert r.json()["code"] == "ServiceUnavailable" and r.headers["Retry-After"]
            assert cluster.up() == url and cluster.port == port
            for path in (ITEMS, LIST):
                seen = _status_until(root + path, 200, 20)
                assert seen[-1] == 200 and 500 not in seen, (path, seen)
            assert httpx.get(root + ITEMS, timeout=30).json()["numberReturned"] == 2
        log = (session_dir / "outage" / "serve.log").read_text()
        assert "Traceback" not in log
    finally:
        cluster.destroy()
