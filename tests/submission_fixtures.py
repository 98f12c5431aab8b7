"""Shared fixtures of the submission tests: a database of their own with one ward (the city's
reference polygons), street lights, flood observations and address points loaded with
`gis load`, API keys of the departments, and a real `gis serve` on it."""

from __future__ import annotations

import io

import geopandas as gpd
import httpx
import numpy as np
import psycopg
import pytest
import shapely
from PIL import Image
from psycopg.rows import dict_row

from tests.builders import write
from tests.conftest import run_gis, serve

# one ward around Ninh Kiều: the city's reference polygons in this database
WARD = shapely.box(105.70, 9.98, 105.86, 10.10)
INSIDE = (105.7801, 10.0302)
IN_BOX_NOT_WARD = (106.20, 9.35)  # inside the city's extent, outside every loaded ward
HANOI = (105.8542, 21.0285)
GPS_TAG = 0x8825


def keys_for(*departments: str) -> dict[str, str]:
    out = {}
    for dep in departments:
        role = "admin" if dep == "admin" else "staff"
        proc = run_gis("keys", "create", "--name", f"test {dep}", "--department",
                       "snv" if dep == "admin" else dep, "--role", role, check=True)
        out[dep] = proc.stdout.strip().splitlines()[-1]
    return out


@pytest.fixture(scope="module")
def sub_data(own_database, session_dir):
    folder = session_dir / "submission_data"
    folder.mkdir(mode=0o755, exist_ok=True)
    wards = gpd.GeoDataFrame({"MaXa": ["31117"], "Ten": ["Ninh Kiều"], "Loai": ["phường"]},
                             geometry=[shapely.MultiPolygon([WARD])], crs="OGC:CRS84")
    run_gis("load", str(write(wards, folder / "wards.geojson")), "--layer", "admin_units",
            check=True)
    lights = gpd.GeoDataFrame(
        {"MaDen": ["DCS-1", "DCS-2"], "TenDuong": ["Hòa Bình", "Trần Phú"]},
        geometry=[shapely.Point(105.781, 10.031), shapely.Point(105.782, 10.032)],
        crs="OGC:CRS84")
    run_gis("load", str(write(lights, folder / "lights.geojson")), "--layer", "street_lights",
            check=True)
    floods = gpd.GeoDataFrame(
        {"DoSau": [20], "ThoiGian": ["2025-10-01T18:00:00+07:00"], "TenDuong": ["Mậu Thân"]},
        geometry=[shapely.Point(105.77, 10.02)], crs="OGC:CRS84")
    run_gis("load", str(write(floods, folder / "ngap.geojson")), "--layer",
            "flood_observations", check=True)
    addresses = gpd.GeoDataFrame(
        {"MaDiaChi": ["DC-1"], "SoNha": ["12"], "TenDuong": ["Lý Tự Trọng"]},
        geometry=[shapely.Point(105.783, 10.033)], crs="OGC:CRS84")
    run_gis("load", str(write(addresses, folder / "dc.geojson")), "--layer", "address_points",
            check=True)
    return {"keys": keys_for("sxd", "snnmt", "skhcn", "ca", "admin")}


@pytest.fixture(scope="module")
def sub_server(sub_data, own_database, session_dir):
    with serve(own_database, session_dir / "submissions_serve.log",
               SPP_SUBMISSION_RATE_PER_HOUR="0", SPP_RATE_IP_PER_S="0") as root:
        yield root


@pytest.fixture(scope="module")
def http(sub_server):
    with httpx.Client(base_url=sub_server, timeout=60) as c:
        yield c


@pytest.fixture
def db(own_database):
    with psycopg.connect(own_database, autocommit=True, row_factory=dict_row) as c:
        yield c


def count(db) -> tuple[int, int]:
    a = db.execute("SELECT count(*) AS n FROM spp.submissions").fetchone()["n"]
    b = db.execute("SELECT count(*) AS n FROM spp.submission_photos").fetchone()["n"]
    return a, b


def flood(**over) -> dict:
    doc = {"layer": "flood_observations", "kind": "flood_observation",
           "lon": INSIDE[0], "lat": INSIDE[1],
           "properties": {"depth_cm": 35, "observed_at": "2025-10-02T17:45",
                          "street_name": "Nguyễn Văn Cừ"},
           "message": "Nước ngập tới đầu gối sau cơn mưa lớn.", "lang": "vi"}
    doc.update(over)
    return doc


def jpeg_with_gps(size=(640, 480)) -> bytes:
    """A camera-like JPEG: EXIF with a GPS position, a camera owner and an orientation."""
    im = Image.new("RGB", size, (30, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° to stand up
    exif[0x013B] = "Nguyễn Văn An"  # Artist
    exif[0x010F] = "PhoneMaker"
    exif[GPS_TAG] = {1: "N", 2: (10.0, 1.0, 48.7), 3: "E", 4: (105.0, 46.0, 48.4)}
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif, xmp=b"<x:xmpmeta>owner secret</x:xmpmeta>")
    return out.getvalue()


def noise_png(side: int) -> bytes:
    rng = np.random.default_rng(7)
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (side, side, 3), dtype=np.uint8)).save(out, "PNG")
    return out.getvalue()
