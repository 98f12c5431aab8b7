"""A database restart under a running `gis serve` and client load: requests during the outage
get a 503 with Retry-After at once (never a 500, never a hang), and the service answers again
by itself once the database is back, on the same port (a cluster that was just stopped gets
its port back)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

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


PATHS = (ITEMS, LIST, "/ogc/collections/fire_hydrants", "/ogc/collections/fire_hydrants/items/1")


@dataclass
class Hit:
    path: str
    start: float
    took: float
    status: int  # 0: no HTTP answer within the client's timeout
    retry_after: str | None = None
    code: str | None = None


def _load(root: str, stop: threading.Event, hits: list[Hit], offset: int) -> None:
    """One client: the paths in turn, as fast as the answers come."""
    with httpx.Client(base_url=root, timeout=20) as c:
        i = offset
        while not stop.is_set():
            path = PATHS[i % len(PATHS)]
            i += 1
            t = time.monotonic()
            try:
                r = c.get(path)
                code = r.json().get("code") if r.status_code >= 400 else None
                hits.append(Hit(path, t, time.monotonic() - t, r.status_code,
                                r.headers.get("retry-after"), code))
            except httpx.HTTPError:
                hits.append(Hit(path, t, time.monotonic() - t, 0))
            time.sleep(0.02)


def _wait_for(hits: list[Hit], since: float, ok: int, seconds: float) -> None:
    """Until `ok` answers of 200 for each path started after `since` (or the time is up)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(sum(1 for h in hits if h.path == p and h.start > since and h.status == 200)
               >= ok for p in PATHS):
            return
        time.sleep(0.2)


def test_database_restarts_under_load(session_dir):
    """Four clients all along: a quick restart, then 12 s away. Never a 500 nor a hang: every
    answer is a 200 or a 503 with Retry-After, each within 2.5 s, and the service answers 200
    again by itself soon after the database is back."""
    folder = session_dir / "outage"
    cluster = EmbeddedCluster(folder / "pg")
    url = cluster.up()
    try:
        hydrants = gpd.GeoDataFrame(
            {"MaTru": ["TN-1", "TN-2"], "LoaiTru": ["trụ nổi", "trụ âm"],
             "DuongKinh": [100, 125], "ViTri": ["a", "b"]},
            geometry=[shapely.Point(105.78, 10.03), shapely.Point(105.79, 10.04)],
            crs="OGC:CRS84")
        source = write(hydrants, folder / "tru_nuoc.geojson")
        run_gis("load", str(source), "--layer", "fire_hydrants", env={"DATABASE_URL": url},
                check=True)
        hits: list[Hit] = []
        stop = threading.Event()
        with serve(url, folder / "serve.log", SPP_RATE_IP_PER_S="0") as root:
            assert httpx.get(root + ITEMS, timeout=30).json()["numberReturned"] == 2
            port = cluster.port
            clients = [threading.Thread(target=_load, args=(root, stop, hits, n))
                       for n in range(4)]
            for t in clients:
                t.start()
            try:
                time.sleep(1.5)
                cluster.down()  # a quick restart: connections closed under the service
                assert cluster.up() == url and cluster.port == port
                back1 = time.monotonic()
                _wait_for(hits, back1, 3, 20)
                cluster.down()
                gone = time.monotonic()
                time.sleep(12)
                away_until = time.monotonic()
                assert cluster.up() == url
                back2 = time.monotonic()
                _wait_for(hits, back2, 3, 20)
                recovered = time.monotonic()
                time.sleep(1)
            finally:
                stop.set()
                for t in clients:
                    t.join(30)
        bad = [h for h in hits if h.status not in (200, 503)]
        assert not bad, bad[:5]
        for h in hits:
            if h.status == 503:
                assert h.code == "ServiceUnavailable" and int(h.retry_after) >= 1, h
        away = [h for h in hits if gone + 3 < h.start and h.start + h.took < away_until]
        assert len(away) > 20 and all(h.status == 503 for h in away if h.path != LIST), away[:5]
        slowest = sorted(hits, key=lambda h: -h.took)[:3]  # no client waits on a lost database
        assert slowest[0].took < 2.5, slowest
        for since in (back1, back2):
            for p in PATHS:
                assert any(h.path == p and h.start > since and h.status == 200 for h in hits), p
        assert recovered - back2 < 10, recovered - back2
        tail = [h for h in hits if h.start > recovered]
        assert tail and all(h.status == 200 for h in tail), tail[:5]
        log = (folder / "serve.log").read_text()
        assert "Traceback" not in log and "unexpected error" not in log, log[-3000:]
    finally:
        cluster.destroy()
