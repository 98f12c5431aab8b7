"""Helpers of the submission tests (no fixtures: tests/submission_fixtures.py has those)."""

from __future__ import annotations

import io

import numpy as np
import shapely
from PIL import Image

from tests.conftest import run_gis

# one ward around Ninh Kiều: the city's reference polygons in the submission tests' database
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
