"""The web map in a real browser: tests/web/map.spec.mjs (playwright-core driving Debian's
chromium) against a real server with the sample set. Screenshots: tests/artifacts/."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

pytest_plugins = ["tests.planning_fixtures"]
SPEC = ROOT / "tests" / "web" / "map.spec.mjs"


def test_web_map_in_chromium(planning_server, web):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (./spp setup installs it)")
    assert (ROOT / "services/web/node_modules/playwright-core").is_dir(), \
        "services/web/node_modules is missing: run ./spp setup (npm ci in services/web)"
    page = web.get("/")
    assert page.status_code == 200 and "maplibre-gl.js" in page.text
    assert web.get("/static/vendor/maplibre-gl/maplibre-gl.js").status_code == 200
    assert web.get("/static/vendor/maplibre-gl/../../../../pyproject.toml").status_code == 404
    proc = subprocess.run([node, str(SPEC), planning_server], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"no result from the browser test:\n{proc.stdout}\n{proc.stderr}"
    result = json.loads(lines[-1])
    assert proc.returncode == 0 and result["ok"], json.dumps(result, ensure_ascii=False,
                                                             indent=1) + proc.stderr
    seen = result["seen"]
    assert seen["rendered"]["parcels"] > 10
    assert "water_pipes" not in seen["rendered"]["layersInTree"]
    assert seen["rasterTiles"]["png"] >= 1 and seen["floodLinesVi"] and seen["floodLinesEn"]
    for name in ("01-map-parcels", "02-parcel-panel", "06-english", "08-phone-shared-link",
                 "09-flood-raster"):
        assert (ROOT / "tests" / "artifacts" / f"{name}.png").stat().st_size > 10_000
