"""The web map's print (services/web/print.js) in a real browser: tests/web/print.spec.mjs
selects a parcel and prints A4 landscape and A3 portrait on a phone-sized screen; the downloaded
PDFs are opened here with pypdf: paper size and orientation, the text (title, date, scale,
legend, attribution, the parcel's planning summary with its Vietnamese diacritics) and the map
image (print resolution, not blank)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from PIL import ImageStat
from pypdf import PdfReader

from tests.conftest import ROOT

pytest_plugins = ["tests.planning_fixtures"]
SPEC = ROOT / "tests" / "web" / "print.spec.mjs"
MM = 72 / 25.4  # PDF points per millimetre
PAPER = {"A4": (210, 297), "A3": (297, 420)}


@pytest.fixture(scope="module")
def printed(planning_server, tmp_path_factory):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (./spp setup installs it)")
    out = tmp_path_factory.mktemp("print")
    proc = subprocess.run([node, str(SPEC), planning_server, str(out)], capture_output=True,
                          text=True, timeout=400, cwd=ROOT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"no result from the browser test:\n{proc.stdout}\n{proc.stderr}"
    result = json.loads(lines[-1])
    assert proc.returncode == 0 and result["ok"], json.dumps(result, ensure_ascii=False, indent=1)
    return result["seen"]


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize("key", ["A4-landscape", "A3-portrait"])
def test_printed_pdf(printed, key):
    paper, orientation = key.split("-")
    reader = PdfReader(printed["pdfs"][key]["file"])
    page = reader.pages[0]  # the map; a long summary goes on to a second page of the same size
    short, long_ = PAPER[paper]
    expect = (long_, short) if orientation == "landscape" else (short, long_)
    for p in reader.pages:
        w, h = float(p.mediabox.width), float(p.mediabox.height)
        assert (round(w / MM), round(h / MM)) == expect

    text = _flat(" ".join(p.extract_text() for p in reader.pages))
    assert printed["pdfs"][key]["title"] in text
    days = [date.today() + timedelta(days=d) for d in (-1, 0, 1)]  # the browser's clock and zone
    assert any(d.strftime("%d/%m/%Y") in text for d in days), text[:300]
    scale = re.search(r"Tỷ lệ 1:([\d.]+)", text)
    assert scale and 100 <= int(scale.group(1).replace(".", "")) <= 50_000, text[:300]
    assert "Chú giải" in text
    assert printed["legend"] and all(name in text for name in printed["legend"]), printed["legend"]
    attribution = _flat(printed["attribution"]).strip()
    assert attribution and attribution.split("|")[0].strip()[:40] in text, attribution
    # the planning summary: the parcel, its ward and the planning sections, diacritics intact
    assert printed["parcel"].startswith("Thửa ") and printed["parcel"] in text
    assert "Thông tin quy hoạch" in text
    assert "Thửa đất Thửa" not in text  # the summary says "Thửa" once, as its label does
    assert "Ninh Kiều" in text and "Quy hoạch sử dụng đất" in text
    assert all(section in text for section in printed["sections"]), printed["sections"]
    assert "Nhãn" not in text  # label rules are no legend classes

    images = list(page.images)
    assert len(images) == 1
    img = images[0].image
    # the map frame's size on paper at 192 dpi (≈ 2 image pixels per 96-dpi CSS pixel)
    ops = page.get_contents().get_data().decode("latin-1").split("\n")
    placed = [ops[i - 1] for i, op in enumerate(ops)
              if op.endswith(" Do") and ops[i - 1].endswith(" cm")]
    assert len(placed) == 1, "no image placement"
    fw, fh = (float(v) / MM for v in placed[0].split()[:4:3])
    assert abs(img.width - fw / 25.4 * 192) <= 4 and abs(img.height - fh / 25.4 * 192) <= 4, \
        (img.size, fw, fh)
    stat = ImageStat.Stat(img.convert("L"))
    assert stat.stddev[0] > 8, f"the map image is blank (stddev {stat.stddev[0]:.1f})"


def test_a_3d_view_prints_as_the_same_flat_plan(printed):
    """In the 3D view (pitched, buildings and height limits extruded) the print is the plan a
    planner hands out: flat, at the scale of the flat view, the drawing not hidden under the
    extrusions seen from above."""
    tilt = printed["tilt"]
    assert tilt["pitch"] >= 45 and tilt["shown3d"], tilt  # the screen was really in 3D
    assert tilt["scales"][0] == tilt["scales"][1] and tilt["size"][0] == tilt["size"][1]
    assert tilt["meanDiff"] < 2, tilt  # the same picture (JPEG noise aside)
