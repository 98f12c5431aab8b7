"""An items ETag names the layer's data: after `gis load` of a new version (and after a
rollback) a running `gis serve` answers a revalidation with the new data and a new ETag, not
a 304 — on the GeoJSON hot path and on the CSV export alike."""

from __future__ import annotations

import time

import geopandas as gpd
import httpx
import pytest
import shapely

from tests.builders import write
from tests.conftest import run_gis, serve

PAGE = "/ogc/collections/fire_hydrants/items?limit=5"
CSV = "/ogc/collections/fire_hydrants/items?f=csv"


def load(folder, kind: str, *extra: str) -> None:
    frame = gpd.GeoDataFrame(
        {"MaTru": ["TN-1", "TN-2"], "LoaiTru": [kind, kind], "DuongKinh": [100, 125],
         "ViTri": ["a", "b"]},
        geometry=[shapely.Point(105.78, 10.03), shapely.Point(105.79, 10.04)], crs="OGC:CRS84")
    path = write(frame, folder / f"tru_{len(kind)}_{kind.encode().hex()[:8]}.geojson")
    run_gis("load", str(path), "--layer", "fire_hydrants", *extra, check=True)


@pytest.fixture(scope="module")
def server(own_database, session_dir):
    folder = session_dir / "items_etag"
    folder.mkdir(mode=0o755, exist_ok=True)
    load(folder, "trụ nổi")
    with serve(own_database, folder / "serve.log", SPP_RATE_IP_PER_S="0") as root:
        with httpx.Client(base_url=root, timeout=30) as c:
            yield c, folder


def revalidated(c: httpx.Client, path: str, etag: str, seconds: float = 15) -> httpx.Response:
    """The answer to If-None-Match once it is not a 304 (the catalog re-reads versions at
    most once a second), or the last 304 after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        r = c.get(path, headers={"If-None-Match": etag})
        if r.status_code != 304 or time.monotonic() > deadline:
            return r
        time.sleep(0.1)


@pytest.mark.parametrize("path", [PAGE, CSV])
def test_a_new_version_changes_the_items_etag(server, path):
    c, folder = server
    first = c.get(path)
    etag = first.headers["etag"]
    assert c.get(path, headers={"If-None-Match": etag}).status_code == 304
    kind = f"trụ âm {path[-3:]}"
    load(folder, kind)
    second = revalidated(c, path, etag)
    assert second.status_code == 200 and second.headers["etag"] != etag
    assert kind in second.text and kind not in first.text
    run_gis("layer", "rollback", "fire_hydrants", check=True)
    third = revalidated(c, path, second.headers["etag"])
    assert third.status_code == 200 and third.headers["etag"] != second.headers["etag"]
    assert kind not in third.text
