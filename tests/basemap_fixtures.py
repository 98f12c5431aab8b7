"""Fixtures of the base-map tests: a database of its own holding the city base layers around
the centre of Ninh Kiều (a ward, roads, the Cần Thơ river as a line and a surface, a canal,
buildings with floors or heights, place names), a plan zone with a height limit and the
(restricted) orthophoto, loaded with the real `gis load`; an API key of the land department;
a small outside tile server (a city's configured base map) and real `gis serve`s with and
without SPP_BASEMAP_URL."""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, urlunsplit

import geopandas as gpd
import psycopg
import pytest
import shapely
from PIL import Image

from tests.builders import write
from tests.conftest import run_gis, serve

DB_NAME = "spp_basemap_test"
CENTRE = (105.7855, 10.0335)  # lon, lat: between the test roads, on the river's north bank
BUILDING_HEIGHTS = {"NHA-1": 13.2, "NHA-2": None, "NHA-3": 45.0}  # NHA-2: 6 floors, no height


def _box(x0, y0, dx, dy):
    return shapely.box(x0, y0, x0 + dx, y0 + dy)


def base_frames() -> dict[str, gpd.GeoDataFrame]:
    """One small delivery a layer, as the city's departments name their columns."""
    # imported here: these modules are other tests' plugins (pytest rewrites them once)
    from tests.tiles_fixtures import roads_frame

    crs = "OGC:CRS84"
    ward = gpd.GeoDataFrame(
        {"MaXa": ["31135"], "TenXa": ["Ninh Kiều"], "Loai": ["Phường"], "MaTinh": ["92"]},
        geometry=[shapely.MultiPolygon([_box(105.770, 10.020, 0.035, 0.030)])], crs=crs)
    river = shapely.LineString([(105.772, 10.0300), (105.790, 10.0315), (105.803, 10.0330)])
    waterways = gpd.GeoDataFrame(
        {"maNhanDang": ["TV-1", "TV-2"], "TenSong": ["Sông Cần Thơ", "Kênh Ông Tường"],
         "LoaiThuyHe": ["Sông", "Kênh"], "ChieuRong": [280.0, 18.0]},
        geometry=[river, shapely.LineString([(105.784, 10.0310), (105.7845, 10.0420)])], crs=crs)
    surfaces = gpd.GeoDataFrame(
        {"maNhanDang": ["MN-1", "MN-2"], "Ten": ["Sông Cần Thơ", "Hồ Xáng Thổi"],
         "LoaiMatNuoc": ["Sông", "Hồ"]},
        geometry=[river.buffer(0.0012, cap_style="flat"), _box(105.787, 10.036, 0.0015, 0.001)],
        crs=crs)
    x, y = CENTRE
    buildings = gpd.GeoDataFrame(
        {"MaNha": list(BUILDING_HEIGHTS), "SoNha": ["12", "14", "1"],
         "TenDuong": ["Hai Bà Trưng"] * 3, "SoTang": [4, 6, 12],
         "ChieuCao": list(BUILDING_HEIGHTS.values()),
         "CongNang": ["Nhà ở", "Hỗn hợp", "Trụ sở"], "TenCT": [None, None, "Trụ sở UBND"]},
        geometry=[_box(x - 0.0008 + 0.0006 * i, y - 0.0003, 0.00045, 0.0004) for i in range(3)],
        crs=crs)
    places = gpd.GeoDataFrame(
        {"maNhanDang": ["DD-1", "DD-2", "DD-3"],
         "DiaDanh": ["Ninh Kiều", "Chợ Cổ Cần Thơ", "Khu vực 3"],
         "LoaiDiaDanh": ["Phường", "Chợ", "Khu vực"], "NhomDiaDanh": ["DC", "KX", "DC"]},
        geometry=[shapely.Point(x + 0.002, y + 0.002), shapely.Point(x - 0.001, y + 0.001),
                  shapely.Point(x + 0.001, y - 0.001)], crs=crs)
    zones = gpd.GeoDataFrame(
        {"CapQH": ["QHCT"], "KyHieu": ["HH-01"], "ChucNang": ["HH"], "TangCao": [15],
         "ChieuCao": [60.0], "SoQD": ["123/QĐ-UBND"], "NgayQD": ["2024-05-01"]},
        geometry=[_box(x + 0.0012, y + 0.0004, 0.0008, 0.0006)], crs=crs)
    return {"admin_units": ward, "roads": roads_frame(), "waterways": waterways,
            "water_surfaces": surfaces, "buildings": buildings, "place_names": places,
            "construction_plan_zones": zones}


@pytest.fixture(scope="session")
def basemap_db(database_url, session_dir):
    """(database URL, environment) with the base layers, a plan zone and the orthophoto."""
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        admin.execute(f"CREATE DATABASE {DB_NAME}")
    url = urlunsplit(urlsplit(database_url)._replace(path=f"/{DB_NAME}"))
    env = {"DATABASE_URL": url, "SPP_DATA_DIR": str(session_dir / "basemap"), "COLUMNS": "200"}
    run_gis("db", "migrate", env=env, check=True)
    folder = session_dir / "basemap_data"
    for layer, frame in base_frames().items():
        path = write(frame, folder / f"{layer}.geojson")
        run_gis("load", str(path), "--layer", layer, "--force", env=env, check=True)
    from tests.raster_fixtures import write_ortho

    run_gis("load-raster", str(write_ortho(folder / "ortho.tif")), "--layer", "orthophoto",
            "--force", env=env, check=True)
    return url, env


@pytest.fixture(scope="session")
def land_key(basemap_db):
    """An API key of the land department (snnmt), which may see the orthophoto."""
    proc = run_gis("keys", "create", "--name", "basemap test", "--department", "snnmt",
                   env=basemap_db[1], check=True)
    return proc.stdout.strip().splitlines()[-1]


class OutsideTiles:
    """A stand-in for a city's outside base map: 256 px PNG tiles at /tiles/{z}/{x}/{y}.png
    and a MapLibre style of them (with a label layer) at /style.json; it records every path
    asked for."""

    def __init__(self):
        buf = io.BytesIO()
        Image.new("RGB", (256, 256), (230, 200, 120)).save(buf, "PNG")
        png = buf.getvalue()
        asked = self.asked = []
        self.root = ""  # set below, once the port is known
        outside = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                asked.append(self.path)
                if self.path == "/style.json":
                    body, kind = json.dumps(outside.style()).encode(), "application/json"
                elif self.path.startswith("/tiles/") and self.path.endswith(".png"):
                    body, kind = png, "image/png"
                else:
                    body, kind = b"not found", "text/plain"
                self.send_response(404 if kind == "text/plain" else 200)
                self.send_header("Content-Type", kind)
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.root = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.template = self.root + "/tiles/{z}/{x}/{y}.png"
        self.style_url = self.root + "/style.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def style(self) -> dict:
        return {"version": 8, "glyphs": self.root + "/fonts/{fontstack}/{range}.pbf",
                "sources": {"land": {"type": "raster", "tiles": [self.template],
                                     "tileSize": 256}},
                "layers": [{"id": "paper", "type": "background",
                            "paint": {"background-color": "#EEEEEE"}},
                           {"id": "land", "type": "raster", "source": "land"},
                           {"id": "names", "type": "symbol", "source": "land",
                            "layout": {"text-field": "x"}}]}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def outside_tiles():
    tiles = OutsideTiles()
    yield tiles
    tiles.close()


@pytest.fixture(scope="session")
def basemap_server(basemap_db, session_dir):
    """Root URL of `gis serve` on the base-map database, no outside base map configured."""
    url, env = basemap_db
    with serve(url, session_dir / "basemap_serve.log", SPP_DATA_DIR=env["SPP_DATA_DIR"],
               SPP_RATE_IP_PER_S="0") as root:
        yield root


@pytest.fixture(scope="session")
def outside_server(basemap_db, outside_tiles, session_dir):
    """Root URL of `gis serve` with SPP_BASEMAP_URL = the outside tile server's template."""
    url, env = basemap_db
    with serve(url, session_dir / "basemap_outside_serve.log",
               SPP_DATA_DIR=env["SPP_DATA_DIR"], SPP_RATE_IP_PER_S="0",
               SPP_BASEMAP_URL=outside_tiles.template) as root:
        yield root


@pytest.fixture(scope="session")
def outside_style_server(basemap_db, outside_tiles, session_dir):
    """Root URL of `gis serve` with SPP_BASEMAP_URL = the outside server's MapLibre style."""
    url, env = basemap_db
    with serve(url, session_dir / "basemap_outside_style_serve.log",
               SPP_DATA_DIR=env["SPP_DATA_DIR"], SPP_RATE_IP_PER_S="0",
               SPP_BASEMAP_URL=outside_tiles.style_url) as root:
        yield root
