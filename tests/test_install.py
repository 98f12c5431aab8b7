"""The package as a city's operations team gets it: a wheel installed into a fresh venv, run
from an unrelated folder. Nothing may come from the source tree: migrations, layer files,
styles, templates and the web map's MapLibre build travel in the wheel."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, serve
from tests.dockerfile_steps import run_build_stages


@pytest.fixture(scope="module")
def wheel(session_dir) -> Path:
    """The wheel docker/Dockerfile's build stages make, their steps run as a script in a fresh
    folder from the build context that .dockerignore leaves (the image installs this wheel)."""
    roots = run_build_stages(session_dir / "image-build")
    return next((roots["build"] / "src" / "dist").glob("spp_cantho-*.whl"))


@pytest.fixture(scope="module")
def installed(wheel, session_dir) -> dict:
    """A venv with the wheel alone; its dependencies are borrowed from the test venv through a
    path entry (not the source tree: the test venv's own spp-cantho is an editable finder
    that a plain path entry does not activate)."""
    venv = session_dir / "installed-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True, capture_output=True, timeout=120)
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_path("
                           "'purelib'))"], capture_output=True, text=True, check=True)
    Path(site.stdout.strip(), "zz_dependencies.pth").write_text(
        sysconfig.get_path("purelib") + "\n")
    home = session_dir / "installed-home"   # the operator's home: data lands under it
    home.mkdir(mode=0o755)
    elsewhere = session_dir / "installed-elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SPP_") and k not in ("PYTHONPATH",)}
    env.update(HOME=str(home), XDG_DATA_HOME="", PYTHONSAFEPATH="1")
    return {"gis": [str(venv / "bin" / "gis")], "python": py, "env": env, "cwd": elsewhere,
            "site": Path(site.stdout.strip()), "home": home}


def run(inst: dict, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([*inst["gis"], *args], cwd=inst["cwd"], env={**inst["env"], **env},
                          capture_output=True, text=True, timeout=900)


def test_wheel_carries_what_the_product_reads(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(["git", "ls-files", "gis/migrations", "services"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    needed = [f for f in tracked if f.endswith((".sql", ".html", ".js", ".css"))]
    assert needed and not [f for f in needed if f not in names]
    for folder, suffix in (("layers", ".yaml"), ("styles", ".json")):
        files = sorted(p.name for p in (ROOT / folder).glob(f"*{suffix}"))
        assert files and all(f"gis/bundled/{folder}/{n}" in names for n in files)
    for n in ("maplibre-gl/maplibre-gl.js", "maplibre-gl/maplibre-gl.css", "jspdf/jspdf.umd.min.js",
              "jspdf/LICENSE", "dejavu/DejaVuSans.ttf", "dejavu/copyright"):
        assert f"services/web/vendor/{n}" in names
    from gis import fonts  # the label glyphs, made at build time, with the fonts' licence

    for font in fonts.FONTS:
        for start in fonts.RANGES:
            assert f"gis/bundled/fonts/{font}/{start}-{start + 255}.pbf" in names
    assert "gis/bundled/fonts/LICENSE" in names


def test_installed_package_imports_from_its_own_folder(installed):
    out = subprocess.run([str(installed["python"]), "-c", "import gis, services; "
                          "from gis.settings import get_settings as g; s = g(); "
                          "print(gis.__file__, services.__file__, s.data_dir, s.layers_dir)"],
                         cwd=installed["cwd"], env=installed["env"], capture_output=True,
                         text=True, check=True).stdout.split()
    site = str(installed["site"])
    assert out[0].startswith(site) and out[1].startswith(site)
    assert out[2] == str(installed["home"] / ".local" / "share" / "spp-cantho")
    assert out[3].startswith(site) and "bundled" in out[3]


def test_missing_layers_folder_is_an_error_not_zero_layers(installed, own_database):
    proc = run(installed, "layers", DATABASE_URL=own_database,
               SPP_LAYERS_DIR=str(installed["cwd"] / "no-such-folder"))
    assert proc.returncode != 0
    assert "no-such-folder" in proc.stderr and "SPP_LAYERS_DIR" in proc.stderr


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, y, x


def test_installed_package_migrates_loads_and_serves(installed, own_database, session_dir,
                                                     own_conn):
    up = run(installed, "db", "up", DATABASE_URL=own_database)
    assert up.returncode == 0, up.stderr
    mig = run(installed, "db", "migrate", DATABASE_URL=own_database)
    assert mig.returncode == 0 and "nothing to apply" in mig.stdout, mig.stderr
    names = {r["name"] for r in own_conn.execute("SELECT name FROM spp.schema_migrations")}
    assert names == {p.name for p in (ROOT / "gis" / "migrations").glob("*.sql")}

    demo = run(installed, "demo", "--no-serve", DATABASE_URL=own_database)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    data = installed["home"] / ".local" / "share" / "spp-cantho"
    assert (data / "sample").is_dir()
    assert not list(installed["site"].glob("var")) and not (installed["site"] / "sample").exists()
    layers = run(installed, "layers", DATABASE_URL=own_database, COLUMNS="200")
    assert layers.returncode == 0 and "cadastral_parcels" in layers.stdout

    parcel = own_conn.execute(
        "SELECT fid, ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat "
        "FROM data.cadastral_parcels ORDER BY fid LIMIT 1").fetchone()
    z, y, x = _tile_of(parcel["lon"], parcel["lat"], 16)
    with serve(own_database, session_dir / "installed-serve.log", gis=installed["gis"],
               cwd=installed["cwd"], **{k: v for k, v in installed["env"].items()
                                         if k in ("HOME", "XDG_DATA_HOME")}) as root:
        for path, kind in [
            ("/", "text/html"), ("/static/app.js", "javascript"), ("/static/app.css", "css"),
            ("/static/vendor/maplibre-gl/maplibre-gl.js", "javascript"),
            ("/static/vendor/maplibre-gl/maplibre-gl.css", "css"),
            ("/static/vendor/jspdf/jspdf.umd.min.js", "javascript"),
            ("/static/vendor/dejavu/DejaVuSans.ttf", "font"),
            ("/ogc?f=json", "json"), ("/ogc?f=html", "text/html"),
            ("/ogc/collections?f=html", "text/html"),
            (f"/ogc/collections/cadastral_parcels/tiles/WebMercatorQuad/{z}/{y}/{x}",
             "mapbox-vector-tile"),
            ("/ogc/styles/cadastral_parcels?f=mapbox", "json"),
            ("/fonts/DejaVu Sans Regular/7680-7935.pbf", "protobuf"),
            (f"/api/parcels/{parcel['fid']}/planning?f=html", "text/html"),
            ("/datasets", "text/html"), ("/datasets/cadastral_parcels?lang=en", "text/html"),
        ]:
            r = httpx.get(root + path, timeout=30)
            assert r.status_code == 200, (path, r.status_code, r.text[:300])
            assert kind in r.headers["content-type"], (path, r.headers["content-type"])
            assert len(r.content) > 50, path


def test_an_incomplete_installation_is_named_at_start(installed, own_database):
    js = installed["site"] / "services" / "web" / "vendor" / "maplibre-gl" / "maplibre-gl.js"
    hidden = js.with_suffix(".hidden")
    js.rename(hidden)
    try:
        proc = run(installed, "serve", "--port", "1", DATABASE_URL=own_database)
    finally:
        hidden.rename(js)
    assert proc.returncode != 0
    assert str(js) in proc.stderr and "database" not in proc.stderr.lower()


def test_a_missing_template_is_no_database_outage():
    from jinja2 import TemplateNotFound

    from services.ogc.errors import unexpected_error_response

    assert unexpected_error_response(TemplateNotFound("items.html"), "/x").status_code == 500
    assert unexpected_error_response(FileNotFoundError("x.html"), "/x").status_code == 500
    refused = unexpected_error_response(ConnectionRefusedError(111, "refused"), "/x")
    assert refused.status_code == 503 and refused.headers["Retry-After"]
